package dev.streamtune.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.jola.JolaFile;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** JoLA: gated edits of every attention head's output, saved as the authors' JoLA file and config. */
final class JolaMethod implements FineTuningMethod {

    private final TrainingPlan plan;
    private JolaGates gates;

    JolaMethod(TrainingPlan plan) {
        this.plan = plan;
    }

    @Override
    public List<NDArray> install(CausalLm model, NDManager manager) {
        gates = new JolaGates(model.layers(), model.attentionHeads(), model.headDim(), model.computeDtype(), manager);
        model.setHeadEdits(gates);
        return gates.parameters();
    }

    @Override
    public void save(Path folder) throws IOException {
        JolaFile.save(
                folder,
                gates,
                plan.jola().scheduleName(),
                plan.jola().gateLambda(),
                plan.jola().penalty());
    }

    @Override
    public void writeMerged(Path checkpoint, Path folder, NDManager manager) {
        throw new IllegalArgumentException(
                "jola has no adapters to merge: JoLA edits activations, its artefact is the JoLA file");
    }

    @Override
    public JolaGates jola() {
        return gates;
    }
}
