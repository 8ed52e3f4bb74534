package dev.streamtune.lm.adapters;

import dev.streamtune.events.recipe.TargetModules;

/**
 * LoRA hyper-parameters as PEFT names them. The update is scaled by alpha / r, or alpha / sqrt(r) with rsLoRA.
 *
 * @param useDora     DoRA: a trainable magnitude per output row on top of the low-rank direction update
 * @param fanInFanOut the base layers store weights [in, out] (GPT-2's Conv1D), which matters when merging
 */
public record LoraSpec(
        int r,
        double alpha,
        double dropout,
        TargetModules targets,
        boolean rsLora,
        boolean useDora,
        boolean fanInFanOut) {

    /** Plain LoRA on linear layers stored [out, in]. */
    public LoraSpec(int r, double alpha, double dropout, TargetModules targets, boolean rsLora) {
        this(r, alpha, dropout, targets, rsLora, false, false);
    }

    public LoraSpec {
        if (r <= 0) {
            throw new IllegalArgumentException("LoRA rank r must be positive, got " + r);
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        }
    }

    public double scale() {
        return rsLora ? alpha / Math.sqrt(r) : alpha / r;
    }

    public LoraSpec withFanInFanOut(boolean value) {
        return new LoraSpec(r, alpha, dropout, targets, rsLora, useDora, value);
    }
}
