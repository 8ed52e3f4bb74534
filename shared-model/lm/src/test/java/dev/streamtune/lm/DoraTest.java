package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.SafetensorsHeader;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DoRA on a tiny float64 Llama: the PEFT equations, a start at the base model, exact merges and PEFT's folder. */
class DoraTest {

    private static final LoraSpec SPEC =
            new LoraSpec(4, 8, 0.0, TargetModules.of(List.of("q_proj", "v_proj", "down_proj")), false, true, false);

    @TempDir
    Path folder;

    private NDManager manager;
    private TinyLlama tiny;
    private LlamaModel model;
    private NDArray tokens;

    @BeforeEach
    void tinyFloat64Model() {
        manager = Compute.newManager();
        Engine.getInstance().setRandomSeed(5);
        tiny = new TinyLlama(3, manager);
        model = tiny.model();
        tokens = manager.create(tiny.tokens(2, 10));
    }

    @AfterEach
    void free() {
        manager.close();
    }

    @Test
    void startsAtTheBaseModelWithMagnitudesEqualToTheRowNorms() {
        double[] base = model.forward(tokens).toDoubleArray();
        LoraAdapters dora = LoraAdapters.create(SPEC, model.linearWeights(), manager);
        model.setAdapters(dora);

        assertThat(Differences.largest(model.forward(tokens).toDoubleArray(), base))
                .isLessThan(1e-12);
        NDArray w = model.weights().asMap().get("model.layers.1.mlp.down_proj.weight");
        double[] rows = w.mul(w).sum(new int[] {1}).sqrt().toDoubleArray();
        assertThat(dora.weights()
                        .get("model.layers.1.mlp.down_proj")
                        .magnitude()
                        .toDoubleArray())
                .containsExactly(rows);
        assertThat(dora.parameters()).hasSize(3 * 3 * TinyLlama.CONFIG.layers());
    }

    @Test
    void computesTheRescaledLayerAndMergesExactly() {
        LoraAdapters dora = trainedLookingDora();
        model.setAdapters(dora);
        double[] adapted = model.forward(tokens).toDoubleArray();

        // One layer by hand: y = (m / ||W + s B A||_row) (W + s B A) x + b.
        String module = "model.layers.0.self_attn.q_proj";
        NDArray weight = model.weights().asMap().get(module + ".weight");
        NDArray bias = tiny.gaussian(new Shape(weight.getShape().get(0)), 0.5);
        NDArray x = tiny.gaussian(new Shape(3, weight.getShape().get(1)), 1.0);
        LoraWeights pair = dora.weights().get(module);
        NDArray combined = weight.add(pair.b().matMul(pair.a()).mul(SPEC.scale()));
        NDArray norms = combined.mul(combined).sum(new int[] {1}).sqrt();
        NDArray expected =
                x.matMul(combined.transpose()).mul(pair.magnitude().div(norms)).add(bias);
        NDArray base = x.matMul(weight.transpose()).add(bias);
        assertThat(Differences.largest(
                        dora.apply(module, x, weight, bias, base, false).toDoubleArray(), expected.toDoubleArray()))
                .isLessThan(1e-12);

        // The merged weights, (m / n)(W + s B A), carry the adapters: no adapters needed afterwards.
        LlamaModel merged = new LlamaModel(model.config(), dora.merged(model.weights(), manager), manager);
        assertThat(Differences.largest(merged.forward(tokens).toDoubleArray(), adapted))
                .isLessThan(1e-10);
        assertThat(Differences.largest(adapted, withoutAdapters())).isGreaterThan(1e-3);
    }

    @Test
    void savesAndLoadsPeftsDoraFolder() throws Exception {
        LoraAdapters dora = trainedLookingDora();
        model.setAdapters(dora);
        double[] adapted = model.forward(tokens).toDoubleArray();

        PeftAdapterFolder.save(folder, dora, model, "tiny-llama");

        var config = new ObjectMapper()
                .readTree(folder.resolve(PeftAdapterFolder.CONFIG).toFile());
        assertThat(config.path("use_dora").asBoolean()).isTrue();
        Map<String, SafetensorsHeader.TensorInfo> header = new HashMap<>();
        Safetensors.header(folder.resolve(PeftAdapterFolder.WEIGHTS)).tensors().forEach(t -> header.put(t.name(), t));
        assertThat(header).containsKey("base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector");
        assertThat(header.get("base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector")
                        .shape())
                .containsExactly(16L);

        LoraAdapters loaded = PeftAdapterFolder.load(folder, model, manager, false);
        assertThat(loaded.spec().useDora()).isTrue();
        model.setAdapters(loaded);
        assertThat(Differences.largest(model.forward(tokens).toDoubleArray(), adapted))
                .isEqualTo(0.0);
    }

    /** DoRA with B and m moved away from their initial values, as after some training. */
    private LoraAdapters trainedLookingDora() {
        LoraAdapters dora = LoraAdapters.create(SPEC, model.linearWeights(), manager);
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (LoraWeights pair : dora.weights().values()) {
                pair.b().set(new NDIndex("..."), tiny.gaussian(pair.b().getShape(), 0.3));
                pair.magnitude()
                        .set(
                                new NDIndex("..."),
                                pair.magnitude()
                                        .mul(tiny.gaussian(pair.magnitude().getShape(), 0.2)
                                                .add(1.0)));
            }
        } finally {
            JniUtils.setGradMode(recording);
        }
        return dora;
    }

    private double[] withoutAdapters() {
        return new LlamaModel(model.config(), model.weights(), manager)
                .forward(tokens)
                .toDoubleArray();
    }
}
