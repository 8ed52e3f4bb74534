package dev.streamtune.lm.adapters;

/**
 * LoRA hyper-parameters as PEFT names them. The update is scaled by alpha / r, or alpha / sqrt(r) with rsLoRA.
 */
public record LoraSpec(int r, double alpha, double dropout, TargetModules targets, boolean rsLora) {

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
}
