package dev.streamtune.lm.io;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.runtime.Compute;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** float32 narrowed to bfloat16 and float16 as PyTorch rounds: to nearest, ties to even. */
class HalfFloatsTest {

    @TempDir
    Path dir;

    private static float widen(short bits, TensorDtype dtype) {
        ByteBuffer buffer =
                ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, bits);
        return Safetensors.widen(buffer, 1, dtype)[0];
    }

    @Test
    void everySixteenBitValueComesBackAsItself() {
        for (int bits = 0; bits <= 0xFFFF; bits++) {
            short half = (short) bits;
            float bfloat = widen(half, TensorDtype.BF16);
            if (!Float.isNaN(bfloat)) {
                assertThat(HalfFloats.toBfloat16(bfloat)).as("bf16 %04x", bits).isEqualTo(half);
            }
            float f16 = widen(half, TensorDtype.F16);
            if (!Float.isNaN(f16)) {
                assertThat(HalfFloats.toFloat16(f16)).as("f16 %04x", bits).isEqualTo(half);
            }
        }
    }

    @Test
    void tiesGoToTheEvenNeighbour() {
        // bfloat16 keeps 7 mantissa bits: 1 + 2^-8 lies half-way between 1 and 1 + 2^-7
        assertThat(HalfFloats.toBfloat16(1f + 0x1p-8f)).isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.toBfloat16(1f + 3 * 0x1p-8f)).isEqualTo((short) 0x3F82);
        assertThat(HalfFloats.toBfloat16(1f + 0x1p-8f + 0x1p-20f))
                .as("past the tie")
                .isEqualTo((short) 0x3F81);
        assertThat(HalfFloats.toBfloat16(-(1f + 0x1p-8f))).isEqualTo((short) 0xBF80);
        // float16 keeps 10: 2049 lies half-way between 2048 and 2050, 2051 between 2050 and 2052
        assertThat(HalfFloats.toFloat16(2049f)).isEqualTo((short) 0x6800);
        assertThat(HalfFloats.toFloat16(2051f)).isEqualTo((short) 0x6802);
        assertThat(HalfFloats.toFloat16(1f + 0x1p-11f)).isEqualTo((short) 0x3C00);
        assertThat(HalfFloats.toFloat16(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02);
        // subnormal halves: units of 2^-24
        assertThat(HalfFloats.toFloat16(0x1p-25f)).as("half the smallest: to 0").isEqualTo((short) 0);
        assertThat(HalfFloats.toFloat16(1.5f * 0x1p-25f)).isEqualTo((short) 1);
        assertThat(HalfFloats.toFloat16(3 * 0x1p-25f)).isEqualTo((short) 2);
        assertThat(HalfFloats.toFloat16(0x1p-14f - 0x1p-26f))
                .as("rounds up to the smallest normal")
                .isEqualTo((short) 0x0400);
        assertThat(HalfFloats.toFloat16(Float.MIN_VALUE)).isEqualTo((short) 0);
        assertThat(HalfFloats.toFloat16(-0f)).isEqualTo((short) 0x8000);
        assertThat(HalfFloats.toBfloat16(-0f)).isEqualTo((short) 0x8000);
    }

    @Test
    void overflowIsInfinityAndNanStaysNan() {
        assertThat(HalfFloats.toFloat16(65504f)).isEqualTo((short) 0x7BFF);
        assertThat(HalfFloats.toFloat16(65519.99f)).isEqualTo((short) 0x7BFF);
        assertThat(HalfFloats.toFloat16(65520f))
                .as("the tie above the largest goes to even: infinity")
                .isEqualTo((short) 0x7C00);
        assertThat(HalfFloats.toFloat16(-1e6f)).isEqualTo((short) 0xFC00);
        assertThat(HalfFloats.toBfloat16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80);
        assertThat(HalfFloats.toBfloat16(Float.intBitsToFloat(0x7F7F7FFF))).isEqualTo((short) 0x7F7F);
        assertThat(HalfFloats.toBfloat16(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7F80);
        assertThat(HalfFloats.toBfloat16(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFF80);
        assertThat(HalfFloats.toFloat16(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7C00);
        assertThat(HalfFloats.toFloat16(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFC00);
        assertThat(HalfFloats.toBfloat16(Float.NaN)).isEqualTo((short) 0x7FC0);
        assertThat(HalfFloats.toBfloat16(Float.intBitsToFloat(0xFF800001))).isEqualTo((short) 0x7FC0);
        assertThat(HalfFloats.toFloat16(Float.NaN)).isEqualTo((short) 0x7E00);
        assertThat(HalfFloats.toFloat16(Float.intBitsToFloat(0xFFC00000))).isEqualTo((short) 0xFE00);
        assertThat(widen(HalfFloats.toFloat16(Float.NaN), TensorDtype.F16)).isNaN();
    }

    /** Whatever float32 is narrowed, no other 16-bit value is nearer to it, and a tie went to the even one. */
    @Test
    void theNarrowedValueIsTheNearest() {
        Random random = new Random(11);
        for (int i = 0; i < 200_000; i++) {
            float value = Float.intBitsToFloat(random.nextInt());
            if (Float.isNaN(value) || Float.isInfinite(value)) {
                continue;
            }
            // past the largest finite value the next one up is infinity (overflowIsInfinityAndNanStaysNan)
            if (Math.abs(value) <= widen((short) 0x7F7F, TensorDtype.BF16)) {
                nearest(value, HalfFloats.toBfloat16(value), TensorDtype.BF16);
            }
            if (Math.abs(value) <= 65504f) {
                nearest(value, HalfFloats.toFloat16(value), TensorDtype.F16);
            }
        }
    }

    private static void nearest(float value, short narrowed, TensorDtype dtype) {
        double error = Math.abs((double) widen(narrowed, dtype) - value);
        for (int step : new int[] {-1, 1}) {
            float neighbour = widen((short) (narrowed + step), dtype);
            if (Float.isNaN(neighbour) || Float.isInfinite(neighbour)) {
                continue;
            }
            double other = Math.abs((double) neighbour - value);
            assertThat(error)
                    .as("%s of %s (%08x)", dtype, value, Float.floatToRawIntBits(value))
                    .isLessThanOrEqualTo(other);
            if (error == other) {
                assertThat(narrowed & 1).as("a tie goes to even: %s", value).isZero();
            }
        }
    }

    @Test
    void aFileIsNarrowedTensorByTensorKeepingTheRest() throws Exception {
        float[] values = {1.5f, -2f, 3.1415927f, 0f, 1e-8f, 70000f, 1f + 0x1p-8f, Float.NaN};
        try (NDManager manager = Compute.newManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            tensors.put("a.weight", manager.create(values, new Shape(2, 4)));
            tensors.put("b.ids", manager.create(new long[] {1, 2, Long.MAX_VALUE}));
            for (TensorDtype dtype : new TensorDtype[] {TensorDtype.BF16, TensorDtype.F16}) {
                Path file = dir.resolve(dtype + ".safetensors");
                Safetensors.write(file, tensors, Map.of("format", "pt"));
                Safetensors.narrow(file, dtype);

                SafetensorsHeader header = Safetensors.header(file);
                assertThat(header.metadata()).containsEntry("format", "pt");
                assertThat(header.tensor("a.weight").dtype()).isEqualTo(dtype);
                assertThat(header.tensor("a.weight").shape()).containsExactly(2, 4);
                assertThat(header.tensor("b.ids").dtype()).isEqualTo(TensorDtype.I64);
                Map<String, NDArray> read = Safetensors.read(file, manager);
                float[] back = read.get("a.weight").toFloatArray();
                for (int i = 0; i < values.length; i++) {
                    short bits = dtype == TensorDtype.BF16
                            ? HalfFloats.toBfloat16(values[i])
                            : HalfFloats.toFloat16(values[i]);
                    assertThat(Float.floatToIntBits(back[i]))
                            .as("%s %s", dtype, values[i])
                            .isEqualTo(Float.floatToIntBits(widen(bits, dtype)));
                }
                assertThat(read.get("b.ids").toLongArray()).containsExactly(1, 2, Long.MAX_VALUE);
            }
        }
    }
}
