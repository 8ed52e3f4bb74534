package dev.streamtune.trainer.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.jola.JolaFile;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.llama.HfCheckpointWriter;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.trainer.plan.Method;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A fine-tuning method installed on a loaded model: which tensors it trains, which of them are exempt from weight
 * decay, the JoLA penalty, and the artefact a checkpoint carries (a PEFT adapter folder, the JoLA file and config,
 * or a Hugging Face checkpoint folder).
 */
public final class FineTuning {

    private final TrainingPlan plan;
    private final CausalLm model;
    private final LoraAdapters lora;
    private final JolaGates jola;
    private final List<NDArray> parameters;

    private FineTuning(TrainingPlan plan, CausalLm model, LoraAdapters lora, JolaGates jola, List<NDArray> parameters) {
        this.plan = plan;
        this.model = model;
        this.lora = lora;
        this.jola = jola;
        this.parameters = List.copyOf(parameters);
    }

    /**
     * Installs the plan's method on {@code model}. Fresh adapters are drawn from the run's seed, so a run started
     * again from nothing starts from the same adapters.
     */
    public static FineTuning install(TrainingPlan plan, CausalLm model, NDManager manager) {
        Engine.getInstance().setRandomSeed((int) (plan.seed() & 0x7FFFFFFF));
        return switch (plan.method()) {
            case LORA, DORA -> {
                LoraAdapters adapters = LoraAdapters.create(plan.lora(), model, manager);
                model.setAdapters(adapters);
                yield new FineTuning(plan, model, adapters, null, adapters.parameters());
            }
            case JOLA -> {
                LlamaModel llama = (LlamaModel) model;
                JolaGates gates = new JolaGates(llama.config().layers(), llama.config().heads(), llama.config().headDim(),
                        llama.precision().compute(), manager);
                llama.setHeadEdits(gates);
                yield new FineTuning(plan, model, null, gates, gates.parameters());
            }
            case FULL -> {
                List<NDArray> weights = new ArrayList<>(model instanceof LlamaModel llama
                        ? llama.weights().asMap().values() : ((Gpt2Model) model).weights().values());
                weights.forEach(weight -> weight.setRequiresGradient(true));
                yield new FineTuning(plan, model, null, null, weights);
            }
        };
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
        return jola;
    }

    /** Heads whose evaluation-time gates are open (either gate above 0), summed over layers; -1 without JoLA. */
    public int activeHeads(NDManager scope) {
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
        Method method = plan.method();
        switch (method) {
            case LORA, DORA -> PeftAdapterFolder.save(folder, lora, model,
                    plan.baseModelName() == null ? "from-scratch" : plan.baseModelName());
            case JOLA -> JolaFile.save(folder, jola, plan.jola().scheduleName(), plan.jola().gateLambda(),
                    plan.jola().penalty());
            case FULL -> {
                if (model instanceof LlamaModel llama) {
                    HfCheckpointWriter.write(folder, llama.config(), llama.weights());
                } else {
                    ((Gpt2Model) model).write(folder);
                }
            }
        }
    }

    public CausalLm model() {
        return model;
    }

    public LoraAdapters lora() {
        return lora;
    }
}
