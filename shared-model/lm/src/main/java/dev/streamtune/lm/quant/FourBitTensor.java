package dev.streamtune.lm.quant;

import java.util.Arrays;

/**
 * A tensor quantised to 4 bits block by block, as bitsandbytes' {@code quantize_4bit} does it: the flattened values
 * in blocks of {@value #BLOCK}, each block scaled by its absolute maximum into [-1, 1] and each value replaced by the
 * index of the nearest code value ({@link FourBitType}), two indices per byte, the first of a pair in the high
 * nibble. With double quantisation the blocks' scales are themselves quantised (QLoRA section 3): their mean is
 * subtracted (the offset) and the centred scales are stored as 8-bit indices into {@link DynamicMap}, in blocks of
 * {@value #SCALE_BLOCK} with one float32 absolute maximum each: 8 + 32/256 bits per 64 weights instead of 32.
 *
 * <p>The arrays are padded to whole blocks (zeros, which dequantise to zero); {@link #size()} is the real count.
 *
 * @param packed       two 4-bit indices per byte, {@code padded / 2} bytes
 * @param absmax       each block's absolute maximum, or null with double quantisation
 * @param scaleCodes   each block's centred scale as an index into {@link DynamicMap} (padded to whole scale
 *                     blocks), or null without double quantisation
 * @param scaleAbsmax  each scale block's absolute maximum, or null without double quantisation
 * @param offset       the mean of the blocks' scales, subtracted before their quantisation (0 without)
 */
public record FourBitTensor(
        FourBitType type,
        long[] shape,
        byte[] packed,
        float[] absmax,
        byte[] scaleCodes,
        float[] scaleAbsmax,
        float offset) {

    /** Weights per scale, bitsandbytes' default (and QLoRA's). */
    public static final int BLOCK = 64;
    /** Scales per second-level scale in double quantisation. */
    public static final int SCALE_BLOCK = 256;

    private static final Codebook DYNAMIC = new Codebook(DynamicMap.shared());

    /** Quantises {@code values} (row-major, of the given shape). */
    public static FourBitTensor quantize(float[] values, long[] shape, FourBitType type, boolean doubleQuant) {
        long count = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        if (count != values.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " holds " + count + " values, not " + values.length);
        }
        Codebook codebook = new Codebook(type.code());
        int blocks = Math.max(1, (values.length + BLOCK - 1) / BLOCK);
        float[] absmax = new float[blocks];
        byte[] packed = new byte[blocks * BLOCK / 2];
        int zero = codebook.zero();
        for (int block = 0; block < blocks; block++) {
            int start = block * BLOCK;
            int end = Math.min(values.length, start + BLOCK);
            float max = 0f;
            for (int i = start; i < end; i++) {
                max = Math.max(max, Math.abs(values[i]));
            }
            absmax[block] = max;
            float inverse = 1f / max; // multiplied, as bitsandbytes does, rather than divided
            for (int i = start; i < start + BLOCK; i += 2) {
                int high = i < end && max > 0 ? codebook.nearest(clamp(values[i] * inverse)) : zero;
                int low = i + 1 < end && max > 0 ? codebook.nearest(clamp(values[i + 1] * inverse)) : zero;
                packed[i / 2] = (byte) (high << 4 | low);
            }
        }
        if (!doubleQuant) {
            return new FourBitTensor(type, shape.clone(), packed, absmax, null, null, 0f);
        }
        return doubleQuantized(type, shape, packed, absmax);
    }

    private static FourBitTensor doubleQuantized(FourBitType type, long[] shape, byte[] packed, float[] absmax) {
        double sum = 0;
        for (float scale : absmax) {
            sum += scale;
        }
        float offset = (float) (sum / absmax.length);
        int scaleBlocks = (absmax.length + SCALE_BLOCK - 1) / SCALE_BLOCK;
        byte[] codes = new byte[scaleBlocks * SCALE_BLOCK];
        float[] scaleAbsmax = new float[scaleBlocks];
        int zero = DYNAMIC.zero();
        Arrays.fill(codes, (byte) zero);
        for (int block = 0; block < scaleBlocks; block++) {
            int start = block * SCALE_BLOCK;
            int end = Math.min(absmax.length, start + SCALE_BLOCK);
            float max = 0f;
            for (int i = start; i < end; i++) {
                max = Math.max(max, Math.abs(absmax[i] - offset));
            }
            scaleAbsmax[block] = max;
            float inverse = 1f / max;
            for (int i = start; i < end && max > 0; i++) {
                codes[i] = (byte) DYNAMIC.nearest(clamp((absmax[i] - offset) * inverse));
            }
        }
        return new FourBitTensor(type, shape.clone(), packed, null, codes, scaleAbsmax, offset);
    }

    private static float clamp(float x) {
        return Math.max(-1f, Math.min(1f, x));
    }

    public boolean doubleQuantized() {
        return absmax == null;
    }

    /** The number of values the tensor holds (without padding). */
    public long size() {
        return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }

    public int blocks() {
        return packed.length * 2 / BLOCK;
    }

    /** The 4-bit index of value {@code i}. */
    public int index(long i) {
        int pair = packed[(int) (i / 2)] & 0xFF;
        return i % 2 == 0 ? pair >>> 4 : pair & 0x0F;
    }

    /**
     * Each block's scale as the dequantisation uses it: the stored absolute maximum, or with double quantisation
     * {@code map[code] * scaleAbsmax[block / 256] + offset} in float32 (bitsandbytes' order of operations).
     */
    public float[] scales() {
        if (!doubleQuantized()) {
            return absmax.clone();
        }
        float[] map = DynamicMap.shared();
        float[] scales = new float[blocks()];
        for (int block = 0; block < scales.length; block++) {
            scales[block] = map[scaleCodes[block] & 0xFF] * scaleAbsmax[block / SCALE_BLOCK] + offset;
        }
        return scales;
    }

    /** The values the tensor stands for, {@code code[index] * scale} in float32, row-major. */
    public float[] dequantize() {
        float[] scales = scales();
        float[] values = new float[(int) size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = type.value(index(i)) * scales[i / BLOCK];
        }
        return values;
    }

    /**
     * Bytes the quantised tensor occupies: the packed indices and the scales (8-bit codes, one float32 per 256 and
     * the offset with double quantisation; one float32 per block without).
     */
    public long bytes() {
        long scales = doubleQuantized() ? scaleCodes.length + 4L * scaleAbsmax.length + 4 : 4L * absmax.length;
        return packed.length + scales;
    }
}
