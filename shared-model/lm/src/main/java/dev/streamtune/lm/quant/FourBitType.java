package dev.streamtune.lm.quant;

import java.util.Arrays;
import java.util.Locale;

/**
 * The 4-bit data types of QLoRA (Dettmers et al., 2023, "QLoRA: Efficient Finetuning of Quantized LLMs"), with the
 * code values bitsandbytes uses, index for index: a 4-bit weight is the index of one of these 16 values, scaled by
 * its block's absolute maximum. Index order matters as much as the values, since it is what the packed bytes hold.
 */
public enum FourBitType {

    /**
     * 4-bit NormalFloat: quantiles of a standard normal, normalised to [-1, 1], with an exact zero and one more
     * positive value than negative (bitsandbytes' {@code get_4bit_type("nf4")}).
     */
    NF4("nf4", new float[] {
        -1.0f,
        -0.6961928009986877f,
        -0.5250730514526367f,
        -0.39491748809814453f,
        -0.28444138169288635f,
        -0.18477343022823334f,
        -0.09105003625154495f,
        0.0f,
        0.07958029955625534f,
        0.16093020141124725f,
        0.24611230194568634f,
        0.33791524171829224f,
        0.44070982933044434f,
        0.5626170039176941f,
        0.7229568362236023f,
        1.0f
    }),

    /**
     * 4-bit float (1 sign, 2 exponent, 1 mantissa bit, bitsandbytes' layout): {0, 0.0625, 8, 12, 4, 6, 2, 3} and
     * their negatives, divided by the largest, 12 ({@code get_4bit_type("fp4")}).
     */
    FP4("fp4", dividedByTwelve(0, 0.0625f, 8, 12, 4, 6, 2, 3, -0f, -0.0625f, -8, -12, -4, -6, -2, -3));

    private final String key;
    private final float[] code;

    FourBitType(String key, float[] code) {
        this.key = key;
        this.code = code;
    }

    /** The name recipes use ({@code bnb_4bit_quant_type}). */
    public String key() {
        return key;
    }

    /** The 16 code values, by index. */
    public float[] code() {
        return code.clone();
    }

    public float value(int index) {
        return code[index];
    }

    /** The type a recipe names (nf4, fp4; any case). */
    public static FourBitType of(String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        for (FourBitType type : values()) {
            if (type.key.equals(wanted)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown 4-bit type '" + name + "'; expected nf4 or fp4");
    }

    private static float[] dividedByTwelve(float... values) {
        float[] code = Arrays.copyOf(values, values.length);
        for (int i = 0; i < code.length; i++) {
            code[i] = code[i] / 12f; // float32 division, as torch's `data /= data.abs().max()`
        }
        return code;
    }
}
