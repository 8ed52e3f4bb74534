package dev.streamtune.trainer.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * LoRA and DoRA (the spec's variant), on a dense base or one held in 4 bits (QLoRA): adapters on the targeted linear
 * layers, saved as a PEFT adapter folder, merged as PEFT's {@code merge_and_unload()}.
 */
final class LoraMethod implements FineTuningMethod {

    private final TrainingPlan plan;
    private LoraAdapters adapters;
    private CausalLm model;

    LoraMethod(TrainingPlan plan) {
        this.plan = plan;
    }

    @Override
    public List<NDArray> install(CausalLm model, NDManager manager) {
        this.model = model;
        this.adapters = LoraAdapters.create(plan.lora(), model, manager);
        model.setAdapters(adapters);
        return adapters.parameters();
    }

    @Override
    public void save(Path folder) throws IOException {
        PeftAdapterFolder.save(
                folder, adapters, model, plan.baseModelName() == null ? "from-scratch" : plan.baseModelName());
    }

    @Override
    public void writeMerged(Path checkpoint, Path folder, NDManager manager) throws IOException {
        // a 4-bit base is loaded as it was trained (quantised), then dequantised: the adapter learnt its
        // corrections against those values, and PEFT's merge of a QLoRA adapter does the same
        CausalLm base = plan.model().load(plan.seed(), Precision.FLOAT32, plan.quantization(), manager);
        base.writeMerged(PeftAdapterFolder.load(checkpoint, base, manager, false), folder, manager);
    }
}
