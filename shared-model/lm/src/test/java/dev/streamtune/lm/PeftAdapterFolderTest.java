package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.adapters.TargetModules;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.SafetensorsHeader;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A trained adapter saved as a PEFT folder and loaded into a fresh model gives the same logits. */
class PeftAdapterFolderTest {

    @TempDir
    Path folder;

    @Test
    void savesAndLoadsAPeftLoraFolder() throws Exception {
        Path checkpoint = SharedModels.require("models/stories260K/stories260K.bin");
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(7);
            Llama2cCheckpoint.Loaded loaded = Llama2cCheckpoint.read(checkpoint, manager);
            LlamaModel model = new LlamaModel(loaded.config(), loaded.weights(), manager);
            Map<String, Shape> modules = new LinkedHashMap<>();
            model.linearModules().forEach(m -> modules.put(m, loaded.weights().asMap().get(m + ".weight").getShape()));
            List<String> targets = List.of("q_proj", "v_proj", "down_proj");
            LoraAdapters lora = new LoraAdapters(new LoraSpec(4, 8, 0.0, TargetModules.of(targets), false), modules, manager);
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

            PeftAdapterFolder.save(folder, lora, targets, "stories260K");

            JsonNode config = new ObjectMapper().readTree(folder.resolve(PeftAdapterFolder.CONFIG).toFile());
            assertThat(config.path("peft_type").asText()).isEqualTo("LORA");
            assertThat(config.path("task_type").asText()).isEqualTo("CAUSAL_LM");
            assertThat(config.path("r").asInt()).isEqualTo(4);
            assertThat(config.path("lora_alpha").asDouble()).isEqualTo(8.0);
            assertThat(config.path("target_modules").toString()).isEqualTo("[\"q_proj\",\"v_proj\",\"down_proj\"]");
            SafetensorsHeader header = Safetensors.header(folder.resolve(PeftAdapterFolder.WEIGHTS));
            assertThat(header.metadata()).containsEntry("format", "pt");
            assertThat(header.tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape())
                    .containsExactly(4, 64);
            assertThat(header.tensor("base_model.model.model.layers.4.mlp.down_proj.lora_B.weight").shape())
                    .containsExactly(64, 4);
            assertThat(header.tensors()).hasSize(2 * 3 * 5);

            LlamaModel fresh = new LlamaModel(loaded.config(), Llama2cCheckpoint.read(checkpoint, manager).weights(), manager);
            fresh.setAdapters(PeftAdapterFolder.load(folder, manager, false));
            assertThat(fresh.forward(tokens).toFloatArray()).containsExactly(expected);
        }
    }
}
