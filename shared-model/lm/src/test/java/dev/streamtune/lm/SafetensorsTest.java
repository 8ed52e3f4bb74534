package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.SafetensorsFormatException;
import dev.streamtune.lm.io.SafetensorsHeader;
import dev.streamtune.lm.io.TensorDtype;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.testing.SharedData;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void writesWhatItReadsWithMetadataAndAPaddedHeader() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            tensors.put("a.weight", manager.create(new float[] {1.5f, -2f, 3f, 0f, 1e-8f, 7f}, new Shape(2, 3)));
            tensors.put("b.ids", manager.create(new long[] {1, 2, 3, Long.MAX_VALUE}));
            Path file = dir.resolve("t.safetensors");

            Safetensors.write(file, tensors, Map.of("format", "pt"));

            SafetensorsHeader header = Safetensors.header(file);
            assertThat(header.metadata()).containsEntry("format", "pt");
            assertThat((header.dataStart() - 8) % 8).isZero();
            assertThat(header.tensor("a.weight").dtype()).isEqualTo(TensorDtype.F32);
            Map<String, NDArray> read = Safetensors.read(file, manager);
            assertThat(read.get("a.weight").getShape()).isEqualTo(new Shape(2, 3));
            assertThat(read.get("a.weight").toFloatArray()).containsExactly(1.5f, -2f, 3f, 0f, 1e-8f, 7f);
            assertThat(read.get("b.ids").toLongArray()).containsExactly(1, 2, 3, Long.MAX_VALUE);
        }
    }

    @Test
    void tensorsReadFromAMappedFileCanBeUpdatedInPlaceWithoutWritingTheFile() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Path file = dir.resolve("w.safetensors");
            Safetensors.write(file, Map.of("w", manager.create(new float[] {1f, 2f, 3f, 4f})), Map.of("format", "pt"));
            byte[] before = Files.readAllBytes(file);

            NDArray w = Safetensors.read(file, manager).get("w");
            w.addi(manager.create(new float[] {10f, 10f, 10f, 10f})); // what a full fine-tuning step does

            assertThat(w.toFloatArray()).containsExactly(11f, 12f, 13f, 14f);
            assertThat(Files.readAllBytes(file)).isEqualTo(before);
            assertThat(Safetensors.read(file, manager).get("w").toFloatArray()).containsExactly(1f, 2f, 3f, 4f);
        }
    }

    @Test
    void halfPrecisionIsWidenedExactly() throws Exception {
        // BF16 0x3FC0 = 1.5, F16 0x3E00 = 1.5, F16 0x0001 = 2^-24 (smallest subnormal), F16 0xFC00 = -inf
        Path file = file(
                "{\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                        + "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[2,8]}}",
                new byte[] {(byte) 0xC0, 0x3F, 0x00, 0x3E, 0x01, 0x00, 0x00, (byte) 0xFC});
        try (NDManager manager = Compute.newManager()) {
            Map<String, NDArray> read = Safetensors.read(file, manager);
            assertThat(read.get("b").toFloatArray()).containsExactly(1.5f);
            assertThat(read.get("h").toFloatArray()).containsExactly(1.5f, 0x1p-24f, Float.NEGATIVE_INFINITY);
        }
    }

    @Test
    void readsTheRealTinyGpt2Checkpoint() throws Exception {
        Path model = SharedData.require("models/tiny-gpt2/model.safetensors");

        SafetensorsHeader header = Safetensors.header(model);

        assertThat(header.tensors()).isNotEmpty();
        assertThat(header.tensors()).anySatisfy(t -> assertThat(t.name()).endsWith("h.0.attn.c_attn.weight"));
        SafetensorsHeader.TensorInfo wte = header.tensors().stream()
                .filter(t -> t.name().endsWith("wte.weight"))
                .findFirst()
                .orElseThrow();
        assertThat(wte.shape()).containsExactly(50257, 2);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}              | fall outside the 8 bytes of data",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}               | 8 bytes of data for shape [3] of F32, which needs 12",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}               | 4 unused bytes before tensor 'a'",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}} | overlaps the data of another tensor",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}               | 4 bytes of data after the last tensor",
                "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}                | unsupported dtype 'Q4'",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}              | must hold non-negative integers",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}} | overflows",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} | not valid JSON: Duplicate field 'a'",
                "[1, 2]                                                                         | not a JSON object",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}                                      | data_offsets must be [begin, end]"
            })
    void refusesHeadersThatLie(String header, String problem) throws Exception {
        Path file = file(header, new byte[8]);

        assertThatThrownBy(() -> Safetensors.header(file))
                .isInstanceOf(SafetensorsFormatException.class)
                .hasMessageStartingWith("safetensors file " + file + ": ")
                .hasMessageContaining(problem);
    }

    @Test
    void refusesAHugeOrTruncatedHeaderLengthWithoutAllocatingIt() throws Exception {
        Path huge = dir.resolve("huge.safetensors");
        Files.write(
                huge,
                ByteBuffer.allocate(16)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(Long.MAX_VALUE - 1)
                        .array());
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});

        assertThatThrownBy(() -> Safetensors.header(huge))
                .hasMessageContaining("declares a header of 9223372036854775806 bytes");
        assertThatThrownBy(() -> Safetensors.header(tiny))
                .hasMessageContaining("too short for the 8-byte header length");
    }

    private Path file(String header, byte[] data) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length)
                .array());
        out.write(json);
        out.write(data);
        Path file = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(file, out.toByteArray());
        return file;
    }
}
