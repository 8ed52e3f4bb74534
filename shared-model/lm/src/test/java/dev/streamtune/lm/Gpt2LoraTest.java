package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.SafetensorsHeader;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA on the real tiny-gpt2's Conv1D layers, PEFT's way: the fused c_attn adapted as one layer, [in, out] weights
 * (fan_in_fan_out), PEFT's module names, merges transposed back into Conv1D, and training that moves the loss.
 */
class Gpt2LoraTest {

    private static final int[] TOKENS = {50256, 464, 2068, 7586, 21831, 625, 262, 16931, 3290, 50256};

    @TempDir
    Path folder;

    @Test
    void adaptsTheConv1dLayersAsPeftNamesThem() throws Exception {
        Path checkpoint = SharedData.require("models/tiny-gpt2");
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(3);
            Gpt2Model model = Gpt2Model.read(checkpoint, manager);
            NDArray tokens = manager.create(new int[][] {TOKENS});
            float[] base = model.forward(tokens).toFloatArray();
            LoraSpec spec =
                    new LoraSpec(2, 4, 0.0, TargetModules.of(List.of("c_attn", "c_fc")), false).withFanInFanOut(true);
            LoraAdapters lora = LoraAdapters.create(spec, model.linearWeights(), manager);
            assertThat(lora.weights().keySet())
                    .containsExactly(
                            "transformer.h.0.attn.c_attn",
                            "transformer.h.0.mlp.c_fc",
                            "transformer.h.1.attn.c_attn",
                            "transformer.h.1.mlp.c_fc");
            LoraWeights fused = lora.weights().get("transformer.h.0.attn.c_attn");
            assertThat(fused.a().getShape().getShape()).containsExactly(2, 2); // [r, in = n_embd]
            assertThat(fused.b().getShape().getShape()).containsExactly(6, 2); // [out = 3 n_embd, r]
            model.setAdapters(lora);
            assertThat(model.forward(tokens).toFloatArray())
                    .as("B = 0: the base model")
                    .isEqualTo(base);

            // Train a few steps: the loss on the sequence falls, and only the adapters moved.
            float[] conv = model.weights().get("h.0.attn.c_attn.weight").toFloatArray();
            AdamW optimizer = new AdamW(lora.parameters(), List.of(), 0.9, 0.999, 1e-8, 0.0, manager);
            List<Double> losses = new ArrayList<>();
            for (int step = 0; step < 15; step++) {
                try (NDManager scope = manager.newSubManager();
                        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray batch = scope.create(new int[][] {TOKENS});
                    CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(batch, null, true), batch);
                    collector.backward(sum.loss());
                    losses.add((double) sum.loss().getFloat() / sum.tokens());
                }
                optimizer.step(0.05, TOKENS.length - 1);
            }
            assertThat(losses.get(14)).isLessThan(losses.get(0) - 1e-3); // a random 2-wide model: small but clear
            assertThat(model.weights().get("h.0.attn.c_attn.weight").toFloatArray())
                    .containsExactly(conv);
            float[] adapted = model.forward(tokens).toFloatArray();

            // Merged back into [in, out] Conv1D weights and written as a Hugging Face folder, the plain model
            // computes what the adapted one does.
            model.merged(lora, manager).write(folder.resolve("merged"));
            Gpt2Model merged = Gpt2Model.read(folder.resolve("merged"), manager);
            assertThat(Differences.largest(merged.forward(tokens).toFloatArray(), adapted))
                    .isLessThan(1e-5);
            assertThat(merged.weights().get("h.0.attn.c_attn.weight").toFloatArray())
                    .isNotEqualTo(conv);
            assertThat(merged.weights().get("h.0.attn.c_proj.weight").toFloatArray())
                    .isEqualTo(model.weights().get("h.0.attn.c_proj.weight").toFloatArray()); // not targeted

            // PEFT's folder: fan_in_fan_out recorded, PEFT's key names, and a reload computes the same.
            PeftAdapterFolder.save(folder, lora, model, "sshleifer/tiny-gpt2");
            assertThat(new ObjectMapper()
                            .readTree(folder.resolve(PeftAdapterFolder.CONFIG).toFile())
                            .path("fan_in_fan_out")
                            .asBoolean())
                    .isTrue();
            Map<String, SafetensorsHeader.TensorInfo> header = new HashMap<>();
            Safetensors.header(folder.resolve(PeftAdapterFolder.WEIGHTS))
                    .tensors()
                    .forEach(t -> header.put(t.name(), t));
            assertThat(header)
                    .containsKeys(
                            "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                            "base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight");
            assertThat(header.get("base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight")
                            .shape())
                    .containsExactly(8L, 2L);
            Gpt2Model reloaded = Gpt2Model.read(checkpoint, manager);
            reloaded.setAdapters(PeftAdapterFolder.load(folder, reloaded, manager, false));
            assertThat(reloaded.forward(tokens).toFloatArray()).isEqualTo(adapted);
        }
    }
}
