package dev.streamtune.trainer.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A fine-tuning method installed on a loaded model: which tensors it trains, which of them are exempt from weight
 * decay, the JoLA penalty, and the artefact a checkpoint carries (a PEFT adapter folder, the JoLA file and config,
 * or a Hugging Face checkpoint folder), which the {@link FineTuningMethod} writes.
 */
public final class FineTuning {

    private final FineTuningMethod method;
    private final CausalLm model;
    private final List<NDArray> parameters;

    private FineTuning(FineTuningMethod method, CausalLm model, List<NDArray> parameters) {
        this.method = method;
        this.model = model;
        this.parameters = List.copyOf(parameters);
    }

    /**
     * Installs the plan's method on {@code model}. Fresh adapters are drawn from the run's seed, so a run started
     * again from nothing starts from the same adapters.
     */
    public static FineTuning install(TrainingPlan plan, CausalLm model, NDManager manager) {
        Engine.getInstance().setRandomSeed((int) (plan.seed() & 0x7FFFFFFF));
        FineTuningMethod method = FineTuningMethod.of(plan);
        return new FineTuning(method, model, method.install(model, manager));
    }

    public List<NDArray> parameters() {
        return parameters;
    }

    /** Biases, norms and JoLA's gates, as Hugging Face's Trainer exempts them. */
    public List<NDArray> exemptFromDecay() {
        return AdamW.exemptFromDecay(parameters);
    }

    public long trainableParameterCount() {
        return parameters.stream().mapToLong(p -> p.getShape().size()).sum();
    }

    /** JoLA's gates, or null for another method. */
    public JolaGates jola() {
        return method.jola();
    }

    /** Heads whose evaluation-time gates are open (either gate above 0), summed over layers; -1 without JoLA. */
    public int activeHeads(NDManager scope) {
        JolaGates jola = method.jola();
        if (jola == null) {
            return -1;
        }
        int active = 0;
        for (int layer = 0; layer < model.layers(); layer++) {
            float[][] gates = jola.evaluationGates(layer, scope);
            for (int head = 0; head < gates[0].length; head++) {
                if (gates[0][head] > 0 || gates[1][head] > 0) {
                    active++;
                }
            }
        }
        return active;
    }

    /** Writes what users take away from a checkpoint, in the Python ecosystem's layout (METHODS.md). */
    public void writeArtefact(Path folder) throws IOException {
        method.save(folder);
    }

    public CausalLm model() {
        return model;
    }
}
