package dev.streamtune.events.recipe;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * README's recipe defaults table says what the code does: each default it states is {@link RecipeDefaults}' value
 * for that key, and every default the code applies is in the table. The code is the truth; the table follows it.
 */
class RecipeDefaultsReadmeTest {

    private static final Path README = Path.of(System.getProperty("maven.multiModuleProjectDirectory", "../.."))
            .resolve("README.md");

    /** A row of the table: | `key` | `default` | whose |. */
    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| `([^`]+)` \\|.*\\|$");

    @Test
    void everyDefaultTheReadmeStatesIsTheOneTheCodeApplies() throws IOException {
        Map<String, String> readme = readmeDefaults();
        Map<String, Object> code = codeDefaults();

        SoftAssertions softly = new SoftAssertions();
        readme.forEach((key, stated) -> {
            softly.assertThat(code)
                    .as("README's defaults table names " + key + ", which RecipeDefaults has no constant" + " for")
                    .containsKey(key);
            if (code.containsKey(key)) {
                softly.assertThat(sameValue(stated, code.get(key)))
                        .as("README says " + key + " defaults to " + stated + "; RecipeDefaults applies "
                                + code.get(key))
                        .isTrue();
            }
        });
        softly.assertAll();
    }

    @Test
    void everyDefaultTheCodeAppliesIsInTheReadme() throws IOException {
        assertThat(readmeDefaults().keySet())
                .as("README's recipe defaults table lists every key RecipeDefaults holds a default for")
                .containsAll(codeDefaults().keySet());
    }

    @Test
    void everyConstantNamesItsKey() {
        for (Field field : RecipeDefaults.class.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers()) && Modifier.isPublic(field.getModifiers())) {
                assertThat(field.getAnnotation(RecipeDefaults.Key.class))
                        .as(field.getName() + " says which recipe key it is the default of")
                        .isNotNull();
            }
        }
    }

    /** A number is the same number however it is written (5e-5, 0.00005); anything else, the same text. */
    private static boolean sameValue(String stated, Object value) {
        if (value instanceof Number number) {
            try {
                return Double.parseDouble(stated) == number.doubleValue();
            } catch (NumberFormatException e) {
                return false;
            }
        }
        if (value instanceof List<?> list) {
            return stated.equals(list.toString());
        }
        return stated.equals(String.valueOf(value));
    }

    private static Map<String, Object> codeDefaults() {
        Map<String, Object> defaults = new LinkedHashMap<>();
        for (Field field : RecipeDefaults.class.getDeclaredFields()) {
            RecipeDefaults.Key key = field.getAnnotation(RecipeDefaults.Key.class);
            if (key != null) {
                try {
                    Object previous = defaults.put(key.value(), field.get(null));
                    assertThat(previous).as("two constants for " + key.value()).isNull();
                } catch (IllegalAccessException e) {
                    throw new AssertionError(field.getName() + " is not readable", e);
                }
            }
        }
        return defaults;
    }

    private static Map<String, String> readmeDefaults() throws IOException {
        assertThat(README)
                .as("the repository's README.md (run from a module of the build)")
                .exists();
        List<String> lines = Files.readAllLines(README);
        int header = lines.indexOf("| key | default | whose |");
        assertThat(header)
                .as("README.md has the recipe defaults table (| key | default | whose |)")
                .isNotNegative();
        Map<String, String> defaults = new LinkedHashMap<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            Matcher row = ROW.matcher(lines.get(i));
            assertThat(row.matches())
                    .as("README.md line " + (i + 1) + ": a row | `key` | `default` | whose |, found " + lines.get(i))
                    .isTrue();
            assertThat(defaults.put(row.group(1), row.group(2)))
                    .as("README.md line " + (i + 1) + ": " + row.group(1) + " is in the table twice")
                    .isNull();
        }
        assertThat(defaults).as("rows of README's recipe defaults table").isNotEmpty();
        return defaults;
    }
}
