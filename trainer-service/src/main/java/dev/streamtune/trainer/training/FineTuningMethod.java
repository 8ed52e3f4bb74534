package dev.streamtune.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * How a run fine-tunes, one type per method as PEFT has one tuner per method: it creates the tensors it trains and
 * puts them in the model's forward pass, saves them as the Python ecosystem's files (METHODS.md), and folds a saved
 * checkpoint into its base for export where the method has something to fold. An instance belongs to one run.
 */
public interface FineTuningMethod {

    /** The method {@code plan} asks for, not yet installed. */
    static FineTuningMethod of(TrainingPlan plan) {
        return switch (plan.method()) {
            case LORA, DORA -> new LoraMethod(plan);
            case JOLA -> new JolaMethod(plan);
            case FULL -> new FullFineTuning();
        };
    }

    /**
     * Creates the method's trainable state on {@code model} and installs it there.
     *
     * @return the tensors to train
     */
    List<NDArray> install(CausalLm model, NDManager manager);

    /** Writes the trained state, as users take it away from a checkpoint. */
    void save(Path folder) throws IOException;

    /**
     * Folds the artefact {@code checkpoint} holds into the plan's base model and writes the result as a Hugging Face
     * checkpoint folder.
     *
     * @throws IllegalArgumentException for a method with nothing to fold
     */
    void writeMerged(Path checkpoint, Path folder, NDManager manager) throws IOException;

    /** JoLA's gates, or null for another method. */
    default JolaGates jola() {
        return null;
    }
}
