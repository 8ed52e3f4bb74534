package dev.streamtune.events.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;

/**
 * Recipes as an attacker or a careless hand writes them: random text, the examples cut and mutated, every known key
 * given a value of every wrong kind, alias bombs, deep nesting, huge documents. The parser returns a recipe or throws
 * {@link RecipeException} listing problems, and a wrong value is refused with a problem naming its key; never any
 * other exception, and within seconds.
 *
 * <p>{@code -Dstreamtune.fuzz.examples=N} draws more inputs than the suite's 300 per property;
 * {@code -Dstreamtune.fuzz.seed=S} replays a run.
 */
class RecipeParserFuzzTest {

    private static final int EXAMPLES = Integer.getInteger("streamtune.fuzz.examples", 300);
    private static final Path RECIPES = Path.of(System.getProperty("maven.multiModuleProjectDirectory", "../.."))
            .resolve("examples/recipes");
    private static final List<String> VALID = examples();

    /** Values of every YAML kind, at the edges, for a key of any type. */
    private static final List<String> HOSTILE_VALUES = List.of(
            "null",
            "~",
            "''",
            "true",
            "-1",
            "0",
            "1.5",
            "-1e309",
            ".nan",
            "9".repeat(30),
            "'" + "9".repeat(30) + "'",
            "'-" + "9".repeat(400) + "'",
            "'1e999'",
            "x".repeat(10_000),
            "[]",
            "[1, [2, {a: b}]]",
            "{}",
            "{a: {b: c}}",
            "!!binary aGVsbG8=",
            "2026-12-07",
            "&anchor 1");

    private static final String PUNCTUATION = ":-[]{}&*!|>'\"#\t\n ?%@`,0.e";

    @Test
    void aMutatedRecipeIsReadOrRefusedWithProblems() {
        theory().forAll(integers().between(0, VALID.size() - 1), integers().between(0, 4), longs().all())
                .checkAssert((example, mutation, seed) -> {
                    String text = mutate(VALID.get(example), mutation, new Random(seed));
                    assertParsedOrRefused(text);
                });
    }

    @Test
    void everyKnownKeyGivenAValueOfTheWrongKindIsAcceptedOrRefusedNamingIt() {
        String base = "training_config:\n  finetuning_type: full\n";
        for (Map.Entry<String, Class<? extends Record>> section : sections().entrySet()) {
            for (String key : RecipeKeys.of(section.getValue()).keySet()) {
                for (String value : HOSTILE_VALUES) {
                    String text = base.replace("training_config:\n", "")
                            + section.getKey() + ":\n  " + key + ": " + value + "\n"
                            + (section.getKey().equals("training_config") ? "" : "training_config:\n")
                            + "  finetuning_type: full\n";
                    if (section.getKey().equals("training_config")) {
                        text = "training_config:\n  finetuning_type: full\n  " + key + ": " + value + "\n";
                    }
                    RecipeException refused = assertParsedOrRefused(text);
                    if (refused != null) {
                        String path = section.getKey() + "." + key;
                        assertThat(refused.problems())
                                .as("problems with %s: %s: %s", path, value, refused.problems())
                                .anySatisfy(problem ->
                                        assertThat(problem).containsAnyOf(path, section.getKey() + ":", " at line 3,"));
                    }
                }
            }
        }
    }

    @Test
    void aBillionLaughsIsRefusedNotExpanded() {
        StringBuilder bomb =
                new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char name = 'b'; name <= 'j'; name++) {
            char previous = (char) (name - 1);
            bomb.append(name).append(": &").append(name).append(" [");
            for (int i = 0; i < 9; i++) {
                bomb.append(i == 0 ? "" : ",").append('*').append(previous);
            }
            bomb.append("]\n");
        }
        bomb.append("training_config: {finetuning_type: full}\n");

        RecipeException refused = assertParsedOrRefused(bomb.toString());

        assertThat(refused).as("a billion laughs must be refused").isNotNull();
    }

    @Test
    void deepNestingIsRefusedNotAStackOverflow() {
        for (String deep : List.of(
                "[".repeat(50_000) + "]".repeat(50_000),
                "training_config: " + "[".repeat(50_000) + "]".repeat(50_000),
                "{a: ".repeat(50_000) + "1" + "}".repeat(50_000),
                nestedBlock(2_000))) {
            assertThat(assertParsedOrRefused(deep)).isNotNull();
        }
    }

    @Test
    void aHugeDocumentIsRefusedOrReadInBoundedTime() {
        String huge = "training_config:\n  finetuning_type: full\nname: '" + "x".repeat(8 * 1024 * 1024) + "'\n";

        assertParsedOrRefused(huge);
    }

    /** The property; returns the refusal, or null when the recipe was read. */
    static RecipeException assertParsedOrRefused(String text) {
        Throwable thrown = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try {
                RecipeParser.Result result = RecipeParser.parse(text, "fuzz.yaml");
                assertThat(result.recipe()).isNotNull();
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        if (thrown == null) {
            return null;
        }
        if (!(thrown instanceof RecipeException refused)) {
            fail("expected a recipe or a RecipeException, got " + thrown + "\nfor:\n" + shown(text), thrown);
            return null;
        }
        assertThat(refused.problems())
                .as("problems for:\n%s", shown(text))
                .isNotEmpty()
                .allSatisfy(problem -> assertThat(problem).isNotBlank());
        return refused;
    }

    private static QuickTheory theory() {
        QuickTheory theory = qt().withExamples(EXAMPLES).withShrinkCycles(20).withUnlimitedTestingTime();
        Long seed = Long.getLong("streamtune.fuzz.seed");
        return seed == null ? theory : theory.withFixedSeed(seed);
    }

    private static String mutate(String valid, int mutation, Random random) {
        return switch (mutation) {
            case 0 -> {
                byte[] bytes = new byte[random.nextInt(512)];
                random.nextBytes(bytes);
                yield new String(bytes, StandardCharsets.ISO_8859_1);
            }
            case 1 -> valid.substring(0, random.nextInt(valid.length()));
            case 2 -> {
                char[] chars = valid.toCharArray();
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    chars[random.nextInt(chars.length)] = PUNCTUATION.charAt(random.nextInt(PUNCTUATION.length()));
                }
                yield new String(chars);
            }
            case 3 -> {
                List<String> lines = new ArrayList<>(valid.lines().toList());
                int at = random.nextInt(lines.size());
                String line = lines.get(at);
                int colon = line.indexOf(':');
                if (colon > 0) {
                    lines.set(
                            at,
                            line.substring(0, colon + 1) + " "
                                    + HOSTILE_VALUES.get(random.nextInt(HOSTILE_VALUES.size())));
                }
                yield String.join("\n", lines);
            }
            default -> {
                List<String> lines = new ArrayList<>(valid.lines().toList());
                lines.remove(random.nextInt(lines.size()));
                yield String.join("\n", lines);
            }
        };
    }

    private static String nestedBlock(int depth) {
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            yaml.append("  ".repeat(i)).append("k:\n");
        }
        return yaml.append("  ".repeat(depth)).append("v\n").toString();
    }

    private static Map<String, Class<? extends Record>> sections() {
        return Map.of(
                "model_config", ModelConfig.class,
                "data_config", DataConfig.class,
                "training_config", TrainingConfig.class,
                "lora_config", LoraConfig.class,
                "jola_config", JolaConfig.class,
                "generation_config", GenerationSettings.class);
    }

    private static String shown(String text) {
        return text.length() <= 600 ? text : text.substring(0, 600) + "... (" + text.length() + " characters)";
    }

    private static List<String> examples() {
        try (Stream<Path> files = Files.list(RECIPES)) {
            List<String> texts = new ArrayList<>();
            for (Path file :
                    files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                texts.add(Files.readString(file));
            }
            return texts;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
