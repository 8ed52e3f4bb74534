package dev.streamtune.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.CausalLm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Full fine-tuning: every weight trains, and a checkpoint is a Hugging Face checkpoint folder. */
final class FullFineTuning implements FineTuningMethod {

    private CausalLm model;

    @Override
    public List<NDArray> install(CausalLm model, NDManager manager) {
        this.model = model;
        List<NDArray> weights = new ArrayList<>(model.allWeights());
        weights.forEach(weight -> weight.setRequiresGradient(true));
        return weights;
    }

    @Override
    public void save(Path folder) throws IOException {
        model.writeHuggingFace(folder);
    }

    @Override
    public void writeMerged(Path checkpoint, Path folder, NDManager manager) {
        throw new IllegalArgumentException(
                "full has no adapters to merge: a full fine-tuning checkpoint is a Hugging Face folder already");
    }
}
