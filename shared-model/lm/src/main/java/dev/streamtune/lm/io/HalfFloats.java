package dev.streamtune.lm.io;

/**
 * float32 narrowed to the 16-bit formats safetensors stores, rounding to nearest, ties to even, as PyTorch's
 * {@code tensor.to(torch.bfloat16)} and {@code .to(torch.float16)} do: written in Java on the bits, because DJL
 * 0.35.1 cannot hold a bfloat16 tensor (see {@link Safetensors}), and Java 17 has no {@code Float.floatToFloat16}.
 * {@link Safetensors#widen} is the way back, exactly.
 */
public final class HalfFloats {

    /** PyTorch's bfloat16 NaN (c10::BFloat16's round_to_nearest_even gives it for every NaN). */
    static final short BFLOAT16_NAN = 0x7FC0;

    private HalfFloats() {}

    /** bfloat16 is float32's top half: the low half rounds into it, to nearest, ties to even; any NaN is 0x7FC0. */
    public static short toBfloat16(float value) {
        if (Float.isNaN(value)) {
            return BFLOAT16_NAN;
        }
        int bits = Float.floatToRawIntBits(value);
        int bias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + bias) >>> 16); // a carry moves into the exponent: up to infinity past the largest
    }

    /**
     * IEEE 754 binary16, to nearest, ties to even: magnitudes past the largest half (65504, and the half-way point
     * above it) become infinity, small ones half's subnormals or zero; a NaN keeps its sign as the quiet NaN 0x7E00,
     * as PyTorch's fp16_ieee_from_fp32_value gives.
     */
    public static short toFloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xFF;
        int mantissa = bits & 0x7FFFFF;
        if (exponent == 0xFF) {
            return (short) (sign | (mantissa == 0 ? 0x7C00 : 0x7E00));
        }
        int halfExponent = exponent - 127 + 15;
        if (halfExponent >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (halfExponent <= 0) {
            // a subnormal half (units of 2^-24), or zero: the significand with its implicit bit, shifted down
            int shift = 14 - halfExponent;
            if (shift > 24 || exponent == 0) {
                return (short) sign; // below half the smallest subnormal (float32's subnormals included)
            }
            int significand = mantissa | 0x800000;
            return (short) (sign | roundedShift(significand, shift));
        }
        // a normal half: the 13 low mantissa bits round away; a carry moves into the exponent, to infinity at the top
        return (short) (sign | roundedShift((halfExponent << 23) | mantissa, 13));
    }

    /** {@code value >>> shift}, to nearest, ties to even. */
    private static int roundedShift(int value, int shift) {
        int kept = value >>> shift;
        int rest = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        return rest > half || (rest == half && (kept & 1) == 1) ? kept + 1 : kept;
    }
}
