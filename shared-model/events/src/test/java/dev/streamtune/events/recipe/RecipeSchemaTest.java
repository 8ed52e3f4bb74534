package dev.streamtune.events.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The recipe's JSON Schema says what the parser accepts: the sectioned examples pass it, the values the parser
 * refuses for a closed set are marked by it, and docs/recipe.schema.json is the schema the code makes. After a
 * change to the recipe's keys, rewrite that file with
 * {@code ./mvnw -pl shared-model/events test -Dtest=RecipeSchemaTest -Drecipe.schema.write=true}.
 */
class RecipeSchemaTest {

    private static final Path ROOT = Path.of(System.getProperty("maven.multiModuleProjectDirectory", "../.."));
    private static final Path DOCUMENTED = ROOT.resolve("docs/recipe.schema.json");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Schema SCHEMA = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(RecipeSchema.jsonSchema().toString(), InputFormat.JSON);

    @Test
    void theDocumentedSchemaIsTheOneTheCodeMakes() throws IOException {
        String made = JSON.writeValueAsString(RecipeSchema.jsonSchema()) + "\n";
        if (Boolean.getBoolean("recipe.schema.write")) {
            Files.writeString(DOCUMENTED, made);
        }
        Assumptions.assumeTrue(Files.isDirectory(DOCUMENTED.getParent()), "skipped: no docs/ folder beside the code");
        assertThat(Files.exists(DOCUMENTED) ? Files.readString(DOCUMENTED) : "")
                .as(DOCUMENTED + " is out of date; rewrite it with -Drecipe.schema.write=true (see this test's doc)")
                .isEqualTo(made);
    }

    @Test
    void theSectionedExamplesPassTheSchemaAndTheParser() throws IOException {
        Path examples = ROOT.resolve("examples/recipes");
        Assumptions.assumeTrue(Files.isDirectory(examples), "skipped: " + examples + " is absent");
        List<Path> recipes;
        try (Stream<Path> files = Files.list(examples)) {
            recipes = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(recipes).isNotEmpty();
        for (Path recipe : recipes) {
            String text = Files.readString(recipe);
            RecipeParser.parse(text, recipe.toString());
            assertThat(errors(text)).as(recipe.toString()).isEmpty();
        }
    }

    @Test
    void aValueOutsideAClosedSetIsMarkedByTheSchemaAndRefusedByTheParser() throws IOException {
        for (var closed : RecipeKeys.allowedValues().entrySet()) {
            String section = closed.getKey().substring(0, closed.getKey().indexOf('.'));
            String key = closed.getKey().substring(closed.getKey().indexOf('.') + 1);
            String text = section.equals("lora_config")
                    ? "lora_config:\n  r: 4\n  " + key + ": not-a-value\n"
                    : "lora_config: {r: 4}\n" + section + ":\n  " + key + ": not-a-value\n";
            assertThat(errors(text))
                    .as(closed.getKey())
                    .anySatisfy(e -> assertThat(e).contains(key));
            assertThatThrownBy(() -> RecipeParser.parse(text, "r.yaml"))
                    .as(closed.getKey())
                    .hasMessageContaining(
                            closed.getKey() + ": expected one of " + String.join(", ", closed.getValue()));
        }
    }

    @Test
    void keysWithoutEffectAndOtherToolsIgnoredKeysAreDescribedWithWhy() {
        JsonNode model = RecipeSchema.jsonSchema()
                .path("properties")
                .path("model_config")
                .path("properties");
        assertThat(model.path("cache_dir").path("description").asText())
                .startsWith("Accepted, has no effect here:")
                .isNotEqualTo("Accepted, has no effect here: ");
        assertThat(model.path("trust_remote_code").path("description").asText())
                .startsWith("Understood, has no effect here:");
        assertThat(model.path("torch_dtype").path("description").asText())
                .isEqualTo("The same setting as dtype; write one of them");
        JsonNode training = RecipeSchema.jsonSchema()
                .path("properties")
                .path("training_config")
                .path("properties");
        assertThat(training.path("learning_rate").path("default").asDouble()).isEqualTo(RecipeDefaults.LEARNING_RATE);
    }

    private static List<String> errors(String yaml) throws IOException {
        JsonNode recipe = new YAMLMapper().readTree(yaml);
        return SCHEMA.validate(recipe).stream().map(Error::toString).toList();
    }
}
