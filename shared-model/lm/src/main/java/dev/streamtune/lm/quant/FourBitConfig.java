package dev.streamtune.lm.quant;

/**
 * A 4-bit base as a recipe asks for it (QLoRA): the code, whether the block scales are quantised again, and the
 * compute dtype the recipe named ({@code bnb_4bit_compute_dtype}, or null), which the device may not offer.
 */
public record FourBitConfig(FourBitType type, boolean doubleQuant, String computeDtype) {

    /** One line for logs and status views, e.g. "nf4, double-quantised scales". */
    public String describe() {
        return type.key() + (doubleQuant ? ", double-quantised scales" : ", float32 scales");
    }
}
