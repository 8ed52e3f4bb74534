package dev.streamtune.lm.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FourBitTensorTest {

    /**
     * bitsandbytes' tables, index for index: bitsandbytes/functional.py get_4bit_type("nf4") (also
     * bitsandbytes/backends/utils.py _NF4_QUANT_TABLE) and get_4bit_type("fp4"): [0, 0.0625, 8, 12, 4, 6, 2, 3, -0,
     * -0.0625, -8, -12, -4, -6, -2, -3] / 12, which backends/utils.py prints to four decimals as _FP4_QUANT_TABLE.
     */
    private static final double[] BITSANDBYTES_NF4 = {
        -1.0,
        -0.6961928009986877,
        -0.5250730514526367,
        -0.39491748809814453,
        -0.28444138169288635,
        -0.18477343022823334,
        -0.09105003625154495,
        0.0,
        0.07958029955625534,
        0.16093020141124725,
        0.24611230194568634,
        0.33791524171829224,
        0.44070982933044434,
        0.5626170039176941,
        0.7229568362236023,
        1.0
    };

    private static final double[] BITSANDBYTES_FP4_ROUNDED = {
        0.0000, 0.0052, 0.6667, 1.0000, 0.3333, 0.5000, 0.1667, 0.2500, 0.0000, -0.0052, -0.6667, -1.0000, -0.3333,
        -0.5000, -0.1667, -0.2500
    };
    private static final double[] FP4_BEFORE_NORMALISATION = {
        0, 0.0625, 8, 12, 4, 6, 2, 3, -0.0, -0.0625, -8, -12, -4, -6, -2, -3
    };

    @Test
    void codeTablesAreBitsandbytesTablesIndexForIndex() {
        float[] nf4 = FourBitType.NF4.code();
        float[] fp4 = FourBitType.FP4.code();
        assertEquals(16, nf4.length);
        assertEquals(16, fp4.length);
        for (int i = 0; i < 16; i++) {
            assertEquals((float) BITSANDBYTES_NF4[i], nf4[i], 0f, "nf4[" + i + "]");
            assertEquals((float) (FP4_BEFORE_NORMALISATION[i] / 12), fp4[i], Math.ulp(fp4[i]), "fp4[" + i + "]");
            assertEquals(BITSANDBYTES_FP4_ROUNDED[i], fp4[i], 5e-5, "fp4[" + i + "] against the four-decimal table");
        }
    }

    @Test
    void dynamicMapIsTheSignedEightBitTreeMap() {
        float[] map = DynamicMap.values();
        assertEquals(256, map.length);
        for (int i = 1; i < map.length; i++) {
            assertTrue(map[i - 1] < map[i], "ascending and distinct at " + i);
        }
        assertEquals(127, Arrays.stream(box(map)).filter(v -> v < 0).count());
        assertEquals(1f, map[255]);
        // 10^0 has 64 fractions, the midpoints of linspace(0.1, 1, 65): the last is 1 - 0.9 / 128
        assertEquals(-(1 - 0.9 / 128), map[0], 1e-6, "the most negative value");
        assertTrue(Arrays.binarySearch(map, 0f) >= 0, "zero is a value");
        // the smallest exponent, 10^-6, has one fraction: the midpoint of [0.1, 1]
        assertEquals(5.5e-7, map[128], 1e-12);
        assertEquals(-5.5e-7, map[126], 1e-12);
    }

    @Test
    void indicesRoundTripThroughPacking() {
        Random random = new Random(7);
        for (FourBitType type : FourBitType.values()) {
            float[] code = type.code();
            int blocks = 9;
            int[] indices = new int[blocks * FourBitTensor.BLOCK];
            float[] values = new float[indices.length];
            for (int block = 0; block < blocks; block++) {
                float scale = 0.01f + random.nextFloat();
                for (int j = 0; j < FourBitTensor.BLOCK; j++) {
                    int i = block * FourBitTensor.BLOCK + j;
                    // -0 (fp4's index 8) is written as +0 (index 0), its lowest index, as argmin chooses
                    indices[i] = j == 0 ? indexOf(code, 1f) : canonical(code, random.nextInt(16));
                    values[i] = code[indices[i]] * scale;
                }
            }
            FourBitTensor quantised =
                    FourBitTensor.quantize(values, new long[] {blocks, FourBitTensor.BLOCK}, type, false);
            for (int i = 0; i < indices.length; i++) {
                assertEquals(indices[i], quantised.index(i), type + " index " + i);
            }
            assertArrayEquals(
                    values, quantised.dequantize(), 0f, type + ": code values times their scale come back exactly");
            assertEquals(
                    indices[0] << 4 | indices[1],
                    quantised.packed()[0] & 0xFF,
                    "the first of a pair is the high nibble");
        }
    }

    @Test
    void eachBlocksLargestMagnitudeComesBackExactlyAndEveryValueIsNearest() {
        float[] values = gaussian(64 * 40 + 17, 3); // a partial last block too
        for (FourBitType type : FourBitType.values()) {
            FourBitTensor quantised = FourBitTensor.quantize(values, new long[] {values.length}, type, false);
            float[] back = quantised.dequantize();
            float[] code = type.code();
            float[] scales = quantised.scales();
            for (int block = 0; block < quantised.blocks(); block++) {
                int start = block * FourBitTensor.BLOCK;
                int largest = start;
                for (int i = start; i < Math.min(values.length, start + FourBitTensor.BLOCK); i++) {
                    largest = Math.abs(values[i]) > Math.abs(values[largest]) ? i : largest;
                    float scaled = values[i] * (1f / scales[block]);
                    float chosen = Math.abs(scaled - code[quantised.index(i)]);
                    for (float candidate : code) {
                        assertTrue(
                                chosen <= Math.abs(scaled - candidate), type + ": value " + i + " took a farther code");
                    }
                }
                assertEquals(values[largest], back[largest], 0f, type + ": block " + block + "'s largest magnitude");
            }
        }
    }

    @Test
    void doubleQuantisedScalesStayWithinTheDynamicMapsResolution() {
        float[] values = gaussian(64 * 700, 5); // 700 blocks: two full scale blocks and a partial one
        FourBitTensor plain = FourBitTensor.quantize(values, new long[] {700, 64}, FourBitType.NF4, false);
        FourBitTensor nested = FourBitTensor.quantize(values, new long[] {700, 64}, FourBitType.NF4, true);
        assertTrue(nested.doubleQuantized());
        for (int i = 0; i < values.length; i++) {
            assertEquals(plain.index(i), nested.index(i), "double quantisation changes only the scales");
        }
        float[] absmax = plain.scales();
        float[] scales = nested.scales();
        for (int block = 0; block < absmax.length; block++) {
            // the map's widest steps (10^0's fractions) are 0.9 / 64 apart, and nothing lies below -(1 - 0.9 / 128):
            // at most 0.9 / 128 of the scale block's maximum
            float bound = (0.9f / 128) * 1.0001f * nested.scaleAbsmax()[block / FourBitTensor.SCALE_BLOCK] + 1e-6f;
            assertTrue(
                    Math.abs(scales[block] - absmax[block]) <= bound,
                    "block " + block + ": scale " + scales[block] + " for absmax " + absmax[block]);
        }
    }

    @Test
    void storageIsFourAndAHalfBitsPerWeightOrLessWithNestedScales() {
        float[] values = gaussian(256 * 512, 11);
        long[] shape = {256, 512};
        long plain =
                FourBitTensor.quantize(values, shape, FourBitType.NF4, false).bytes();
        long nested =
                FourBitTensor.quantize(values, shape, FourBitType.NF4, true).bytes();
        assertEquals(values.length / 2 + 4L * values.length / 64, plain, "4 bits + one float32 per 64");
        assertEquals(
                values.length / 2 + values.length / 64 + 4L * values.length / 64 / 256 + 4,
                nested,
                "4 bits + 8 bits per 64 + one float32 per 64 x 256, and the offset");
        assertEquals(4.5, 8.0 * plain / values.length, 1e-9);
        assertEquals(4.127, 8.0 * nested / values.length, 1e-3);
    }

    @Test
    void theDeviceDequantisationIsTheReferenceOne() {
        try (NDManager manager = NDManager.newBaseManager()) {
            for (boolean doubleQuant : new boolean[] {false, true}) {
                for (long[] shape : new long[][] {{3, 50}, {300, 128}}) {
                    float[] values = gaussian((int) (shape[0] * shape[1]), 13);
                    FourBitTensor tensor = FourBitTensor.quantize(values, shape, FourBitType.NF4, doubleQuant);
                    try (QuantizedLinear linear = QuantizedLinear.of(tensor, manager);
                            NDManager scope = manager.newSubManager()) {
                        NDArray weight = linear.dequantize(scope, DataType.FLOAT32);
                        assertArrayEquals(shape, weight.getShape().getShape());
                        assertArrayEquals(
                                tensor.dequantize(),
                                weight.toFloatArray(),
                                0f,
                                "shape " + Arrays.toString(shape) + ", double quantisation " + doubleQuant);
                        assertEquals(tensor.bytes(), linear.bytes());
                        assertEquals(
                                DataType.FLOAT64,
                                linear.dequantize(scope, DataType.FLOAT64).getDataType());
                    }
                }
            }
        }
    }

    static float[] gaussian(int count, long seed) {
        Random random = new Random(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextGaussian() * 0.02);
        }
        return values;
    }

    private static int indexOf(float[] code, float value) {
        for (int i = 0; i < code.length; i++) {
            if (code[i] == value) {
                return i;
            }
        }
        throw new IllegalArgumentException(value + " is not a code value");
    }

    private static int canonical(float[] code, int index) {
        return indexOf(code, code[index] == 0f ? 0f : code[index]);
    }

    private static Float[] box(float[] values) {
        Float[] boxed = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }
}
