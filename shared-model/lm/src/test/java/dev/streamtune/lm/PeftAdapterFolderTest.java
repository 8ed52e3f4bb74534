package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.SafetensorsHeader;
import dev.streamtune.lm.llama.HfCheckpointWriter;
import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.testing.SharedData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A trained adapter saved as a PEFT folder and loaded into a fresh model gives the same logits; an interleaved
 * (llama2.c) model's adapter is written in the Hugging Face layout; an adapter file in which a lora_A, lora_B or DoRA
 * magnitude lacks its partner is refused, naming the file and those tensors.
 */
class PeftAdapterFolderTest {

    @TempDir
    Path folder;

    @Test
    void savesAndLoadsAPeftLoraFolder() throws Exception {
        Path checkpoint = SharedData.require("models/stories260K/stories260K.bin");
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(7);
            Llama2cCheckpoint.Loaded loaded = Llama2cCheckpoint.read(checkpoint, manager);
            LlamaModel model = new LlamaModel(loaded.config(), loaded.weights(), manager);
            Map<String, Shape> modules = new LinkedHashMap<>();
            model.linearModules()
                    .forEach(m -> modules.put(
                            m, loaded.weights().asMap().get(m + ".weight").getShape()));
            List<String> targets = List.of("q_proj", "v_proj", "down_proj");
            LoraAdapters lora =
                    new LoraAdapters(new LoraSpec(4, 8, 0.0, TargetModules.of(targets), false), modules, manager);
            model.setAdapters(lora);
            AdamW optimizer = new AdamW(lora.parameters(), List.of(), 0.9, 0.999, 1e-8, 0.0, manager);
            NDArray tokens = manager.create(new int[][] {{1, 403, 407, 261, 378, 432, 383, 286, 261, 376}});
            for (int step = 0; step < 5; step++) { // trained, so that B is no longer zero
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(tokens, true), tokens);
                    collector.backward(sum.loss());
                    optimizer.step(1e-2, sum.tokens());
                }
            }
            float[] expected = model.forward(tokens).toFloatArray();

            PeftAdapterFolder.save(folder, lora, model, "stories260K");

            JsonNode config = new ObjectMapper()
                    .readTree(folder.resolve(PeftAdapterFolder.CONFIG).toFile());
            assertThat(config.path("peft_type").asText()).isEqualTo("LORA");
            assertThat(config.path("task_type").asText()).isEqualTo("CAUSAL_LM");
            assertThat(config.path("r").asInt()).isEqualTo(4);
            assertThat(config.path("lora_alpha").asDouble()).isEqualTo(8.0);
            assertThat(config.path("target_modules").toString()).isEqualTo("[\"q_proj\",\"v_proj\",\"down_proj\"]");
            SafetensorsHeader header = Safetensors.header(folder.resolve(PeftAdapterFolder.WEIGHTS));
            assertThat(header.metadata()).containsEntry("format", "pt");
            assertThat(header.tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")
                            .shape())
                    .containsExactly(4, 64);
            assertThat(header.tensor("base_model.model.model.layers.4.mlp.down_proj.lora_B.weight")
                            .shape())
                    .containsExactly(64, 4);
            assertThat(header.tensors()).hasSize(2 * 3 * 5);

            LlamaModel fresh = new LlamaModel(
                    loaded.config(), Llama2cCheckpoint.read(checkpoint, manager).weights(), manager);
            fresh.setAdapters(PeftAdapterFolder.load(folder, fresh, manager, false));
            assertThat(fresh.forward(tokens).toFloatArray()).containsExactly(expected);
        }
    }

    /**
     * A model with llama2.c's interleaved rotary pairs (grouped-query attention, so k_proj has fewer heads) adapted by
     * LoRA or DoRA on q, k and v: its PEFT folder, loaded as PEFT would onto the same model converted to Hugging Face
     * (HfCheckpointWriter, then the Hugging Face loader), computes what the adapted original computes; loaded back
     * for the original, exactly that; and applied to the original without the conversion, something else.
     */
    @ParameterizedTest(name = "dora={0}")
    @ValueSource(booleans = {false, true})
    void anInterleavedModelsAdapterIsSavedInTheHuggingFaceLayout(boolean dora) throws Exception {
        LlamaConfig config =
                new LlamaConfig(32, 48, 2, 4, 2, 64, 16, 10000.0, 1e-5, RopeStyle.INTERLEAVED, false, null);
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model = new LlamaModel(config, RandomInit.llama(config, 3, DataType.FLOAT32, manager), manager);
            Engine.getInstance().setRandomSeed(5);
            LoraSpec spec = new LoraSpec(
                    4, 8, 0.0, TargetModules.of(List.of("q_proj", "k_proj", "v_proj")), false, dora, false);
            Map<String, LoraWeights> pairs = new LinkedHashMap<>();
            LoraAdapters.create(spec, model, manager)
                    .weights()
                    .forEach((module, fresh) -> pairs.put(
                            module,
                            new LoraWeights(
                                    manager.randomNormal(0, 0.5f, fresh.a().getShape(), DataType.FLOAT32),
                                    manager.randomNormal(0, 0.5f, fresh.b().getShape(), DataType.FLOAT32),
                                    // row norms far from the small random weights', unlike each other: sharp attention,
                                    // so that a row out of place shows
                                    fresh.magnitude() == null
                                            ? null
                                            : manager.randomUniform(
                                                    2f, 8f, fresh.magnitude().getShape()))));
            model.setAdapters(new LoraAdapters(spec, pairs, manager, false));
            NDArray tokens = manager.create(new int[][] {{1, 9, 33, 4, 60, 17, 2, 41, 8, 25, 12, 50}});
            float[] expected = model.forward(tokens).toFloatArray();
            PeftAdapterFolder.save(folder, new LoraAdapters(spec, pairs, manager, false), model, "interleaved");

            Path converted = folder.resolve("hf");
            HfCheckpointWriter.write(converted, config, model.weights());
            Llama2cCheckpoint.Loaded hf = HfLlamaCheckpoint.read(converted, manager);
            LlamaModel halves = new LlamaModel(hf.config(), hf.weights(), manager);
            halves.setAdapters(PeftAdapterFolder.load(folder, manager, false)); // the file as it is
            assertThat(Differences.largest(halves.forward(tokens).toFloatArray(), expected))
                    .as("the converted model with the file's adapter")
                    .isLessThan(1e-5f);

            LlamaModel original = new LlamaModel(config, model.weights(), manager);
            original.setAdapters(PeftAdapterFolder.load(folder, original, manager, false));
            assertThat(original.forward(tokens).toFloatArray()).containsExactly(expected);

            original.setAdapters(PeftAdapterFolder.load(folder, manager, false)); // rows left in the file's order
            assertThat(Differences.largest(original.forward(tokens).toFloatArray(), expected))
                    .as("the original model with the file's rows unconverted")
                    .isGreaterThan(1e-2f);
        }
    }

    private static final String Q_PROJ = "model.layers.0.self_attn.q_proj";
    private static final String V_PROJ = "model.layers.0.self_attn.v_proj";

    @Test
    void refusesALoraBWithoutItsLoraA() throws Exception {
        assertThat(refusalOfAdapterWithout(false, V_PROJ + ".lora_A.weight"))
                .hasMessage(weights()
                        + ": incomplete adapter, tensors without their partner: base_model.model." + V_PROJ
                        + ".lora_B.weight (no lora_A)");
    }

    @Test
    void refusesALoraAWithoutItsLoraB() throws Exception {
        assertThat(refusalOfAdapterWithout(false, Q_PROJ + ".lora_B.weight"))
                .hasMessage(weights()
                        + ": incomplete adapter, tensors without their partner: base_model.model." + Q_PROJ
                        + ".lora_A.weight (no lora_B)");
    }

    @Test
    void refusesADoraMagnitudeWithoutItsLayer() throws Exception {
        assertThat(refusalOfAdapterWithout(true, V_PROJ + ".lora_A.weight", V_PROJ + ".lora_B.weight"))
                .hasMessage(weights() + ": incomplete adapter, tensors without their partner: base_model.model."
                        + V_PROJ + ".lora_magnitude_vector (no lora_A and lora_B)");
    }

    @Test
    void namesEveryTensorOfADoraLayerThatLacksItsLoraA() throws Exception {
        assertThat(refusalOfAdapterWithout(true, Q_PROJ + ".lora_A.weight"))
                .hasMessage(weights()
                        + ": incomplete adapter, tensors without their partner: base_model.model." + Q_PROJ
                        + ".lora_B.weight (no lora_A), base_model.model." + Q_PROJ
                        + ".lora_magnitude_vector (no lora_A)");
    }

    /**
     * Saves a small LoRA (or DoRA) adapter on two layers, checks that the complete folder loads, rewrites its weights
     * file without the named tensors (module-relative names) and returns what loading it then throws.
     */
    private Throwable refusalOfAdapterWithout(boolean dora, String... removed) throws IOException {
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model = new TinyLlama(1, manager).model();
            Map<String, NDArray> linearWeights = new LinkedHashMap<>();
            linearWeights.put(Q_PROJ, model.linearWeights().get(Q_PROJ));
            linearWeights.put(V_PROJ, model.linearWeights().get(V_PROJ));
            LoraSpec spec = new LoraSpec(2, 4, 0.0, TargetModules.of(List.of("q_proj", "v_proj")), false, dora, false);
            PeftAdapterFolder.save(folder, LoraAdapters.create(spec, linearWeights, manager), model, "tiny");
            assertThat(PeftAdapterFolder.load(folder, manager, false).weights()).containsOnlyKeys(Q_PROJ, V_PROJ);

            Map<String, NDArray> tensors = new LinkedHashMap<>(Safetensors.read(weights(), manager));
            for (String name : removed) {
                assertThat(tensors.remove("base_model.model." + name)).as(name).isNotNull();
            }
            Safetensors.write(weights(), tensors, Map.of("format", "pt"));
            Throwable refusal = catchThrowable(() -> PeftAdapterFolder.load(folder, manager, false));
            assertThat(refusal).isInstanceOf(IOException.class);
            return refusal;
        }
    }

    private Path weights() {
        return folder.resolve(PeftAdapterFolder.WEIGHTS);
    }
}
