package dev.streamtune.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.events.CheckpointDigest;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.jola.JolaFile;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.llama.LlamaModel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Checkpoints as the trainer writes them, made through shared-model/lm, and their announcements. */
final class Checkpoints {

    private Checkpoints() {}

    /** A PEFT LoRA folder on q_proj and v_proj whose adapters are drawn at random (B non-zero: it changes the model). */
    static void lora(Path folder, CausalLm model, int seed, NDManager manager) throws IOException {
        manager.getEngine().setRandomSeed(seed);
        LoraSpec spec = new LoraSpec(4, 8, 0, TargetModules.of(List.of("q_proj", "v_proj")), false, false, false);
        Map<String, LoraWeights> pairs = new LinkedHashMap<>();
        model.linearShapes().forEach((module, w) -> { // a 4-bit base has shapes, not dense weights
            if (spec.targets().matches(module)) {
                NDArray a = manager.randomNormal(0, 0.3f, new Shape(4, w.get(1)), DataType.FLOAT32);
                NDArray b = manager.randomNormal(0, 0.3f, new Shape(w.get(0), 4), DataType.FLOAT32);
                pairs.put(module, new LoraWeights(a, b));
            }
        });
        PeftAdapterFolder.save(folder, new LoraAdapters(spec, pairs, manager, false), model, "stories260K");
    }

    /** A PEFT DoRA folder: magnitudes from the base weights as DoRA starts, B drawn at random so it changes the model. */
    static void dora(Path folder, CausalLm model, int seed, NDManager manager) throws IOException {
        manager.getEngine().setRandomSeed(seed);
        LoraSpec spec = new LoraSpec(4, 8, 0, TargetModules.of(List.of("q_proj", "v_proj")), false, true, false);
        Map<String, LoraWeights> pairs = new LinkedHashMap<>();
        LoraAdapters.create(spec, model, manager)
                .weights()
                .forEach((module, pair) -> pairs.put(
                        module,
                        new LoraWeights(
                                pair.a(),
                                manager.randomNormal(0, 0.3f, pair.b().getShape(), DataType.FLOAT32),
                                pair.magnitude())));
        PeftAdapterFolder.save(folder, new LoraAdapters(spec, pairs, manager, false), model, "stories260K");
    }

    /** A JoLA checkpoint with every gate closed: the model it describes is the base exactly. */
    static void closedJola(Path folder, LlamaModel model, NDManager manager) throws IOException {
        JolaGates gates = new JolaGates(
                model.config().layers(), model.config().heads(), model.config().headDim(), manager);
        for (int layer = 0; layer < model.config().layers(); layer++) {
            gates.setLogAlphas(layer, -10f);
        }
        JolaFile.save(folder, gates, "expon", 0.0, JolaGates.Penalty.CODED);
    }

    static CheckpointEvent announce(String recipeId, long step, Path folder, String format) throws IOException {
        return announce(recipeId, step, folder, format, CheckpointDigest.of(folder));
    }

    static CheckpointEvent announce(String recipeId, long step, Path folder, String format, String checksum) {
        return new CheckpointEvent(
                CheckpointEvent.SCHEMA_VERSION,
                recipeId,
                recipeId + "-run",
                step,
                step * 100,
                2.0,
                folder.toUri().toString(),
                format,
                checksum,
                Map.of(0, step),
                Instant.now());
    }
}
