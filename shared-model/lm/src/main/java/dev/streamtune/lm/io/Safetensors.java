package dev.streamtune.lm.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes safetensors files (the Hugging Face tensor format) into and from DJL arrays. Reading validates
 * the whole header first ({@link SafetensorsHeader}) and maps each tensor's bytes from the file rather than loading
 * the file whole. Half-precision tensors (F16, BF16) are widened to float32 as they are read: DJL 0.35.1 cannot hold
 * bfloat16 on any device (its JNI has no bfloat16 in its dtype table and terminates the process on it), and a model
 * converts its weights to its compute dtype afterwards ({@code Precision.convert}).
 */
public final class Safetensors {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {}

    public static SafetensorsHeader header(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return SafetensorsHeader.read(channel, file);
        }
    }

    /**
     * Every tensor of the file, by name, in file order. The file is memory-mapped, and float32, float64 and int64
     * tensors go from the mapping straight into tensor memory (one native copy, never through the Java heap, whose
     * arrays could not even hold a large embedding); the copy is what lets full fine-tuning update weights in place
     * while the file stays untouched. Half-precision tensors are widened to float32 on the way in.
     */
    public static Map<String, NDArray> read(Path file, NDManager manager) throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(channel, file);
            for (SafetensorsHeader.TensorInfo info : header.tensors()) {
                ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY, info.begin(), info.end() - info.begin())
                        .order(ByteOrder.LITTLE_ENDIAN);
                NDArray tensor = toArray(info, bytes, manager);
                tensor.setName(info.name());
                tensors.put(info.name(), tensor);
            }
        }
        return tensors;
    }

    private static NDArray toArray(SafetensorsHeader.TensorInfo info, ByteBuffer bytes, NDManager manager) {
        Shape shape = new Shape(info.shape());
        int n = Math.toIntExact(info.elements());
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN && info.elements() > 0) {
            DataType mapped = switch (info.dtype()) {
                case F32 -> DataType.FLOAT32;
                case F64 -> DataType.FLOAT64;
                case I64 -> DataType.INT64;
                default -> null;
            };
            if (mapped != null) {
                // create() wraps the direct buffer without copying; duplicate() copies it into memory libtorch owns.
                try (NDArray view = manager.create(bytes, shape, mapped)) {
                    return view.duplicate();
                }
            }
        }
        return switch (info.dtype()) {
            case F32 -> {
                float[] values = new float[n];
                bytes.asFloatBuffer().get(values);
                yield manager.create(values, shape);
            }
            case F16, BF16 -> manager.create(widen(bytes, n, info.dtype()), shape);
            case F64 -> {
                double[] values = new double[n];
                bytes.asDoubleBuffer().get(values);
                yield manager.create(values, shape);
            }
            case I64 -> {
                long[] values = new long[n];
                bytes.asLongBuffer().get(values);
                yield manager.create(values, shape);
            }
            case I32 -> {
                int[] values = new int[n];
                bytes.asIntBuffer().get(values);
                yield manager.create(values, shape);
            }
            case I16 -> {
                int[] values = new int[n];
                for (int i = 0; i < n; i++) {
                    values[i] = bytes.getShort(i * 2);
                }
                yield manager.create(values, shape);
            }
            case I8, U8, BOOL -> {
                byte[] values = new byte[n];
                bytes.get(values);
                DataType type = info.dtype() == TensorDtype.I8
                        ? DataType.INT8
                        : info.dtype() == TensorDtype.U8 ? DataType.UINT8 : DataType.BOOLEAN;
                yield manager.create(ByteBuffer.wrap(values), shape, type);
            }
        };
    }

    /** BF16 is the top half of a float32; F16 is IEEE half precision. Both widen exactly. */
    static float[] widen(ByteBuffer bytes, int n, TensorDtype dtype) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            short bits = bytes.getShort(i * 2);
            values[i] = dtype == TensorDtype.BF16 ? Float.intBitsToFloat((bits & 0xFFFF) << 16) : halfToFloat(bits);
        }
        return values;
    }

    /** IEEE 754 binary16 to binary32 (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int bits = half & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0) { // zero or subnormal: mantissa * 2^-24
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        if (exponent == 0x1F) { // infinity or NaN
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /**
     * Writes tensors in the given order, with string metadata ({@code {"format": "pt"}} for files PyTorch users load).
     * The header is padded with spaces to a multiple of 8 bytes, as the reference implementation does.
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        Map<String, byte[]> data = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, NDArray> entry : tensors.entrySet()) {
            NDArray tensor = entry.getValue();
            TensorDtype dtype = dtypeOf(entry.getKey(), tensor.getDataType());
            byte[] bytes = littleEndianBytes(tensor, dtype);
            ObjectNode info = header.putObject(entry.getKey());
            info.put("dtype", dtype.name());
            ArrayNode shape = info.putArray("shape");
            for (long dimension : tensor.getShape().getShape()) {
                shape.add(dimension);
            }
            info.putArray("data_offsets").add(offset).add(offset + bytes.length);
            offset += bytes.length;
            data.put(entry.getKey(), bytes);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(paddedHeader(JSON.writeValueAsBytes(header)));
            for (byte[] bytes : data.values()) {
                out.write(bytes);
            }
        }
    }

    /**
     * Rewrites {@code file} with its float32 tensors narrowed to {@code target} (F16 or BF16, rounded as
     * {@link HalfFloats} does), its other tensors, their order and its metadata as they are. The new file is written
     * beside it and renamed over it, so a reader sees one or the other whole.
     */
    public static void narrow(Path file, TensorDtype target) throws IOException {
        if (target != TensorDtype.F16 && target != TensorDtype.BF16) {
            throw new IllegalArgumentException("tensors are narrowed to F16 or BF16, not " + target);
        }
        Path temporary = file.resolveSibling(".narrowing-" + file.getFileName());
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(in, file);
            ObjectNode json = JSON.createObjectNode();
            if (!header.metadata().isEmpty()) {
                ObjectNode meta = json.putObject("__metadata__");
                header.metadata().forEach(meta::put);
            }
            long offset = 0;
            for (SafetensorsHeader.TensorInfo info : header.tensors()) {
                TensorDtype dtype = info.dtype() == TensorDtype.F32 ? target : info.dtype();
                long length = info.elements() * dtype.bytes();
                ObjectNode entry = json.putObject(info.name());
                entry.put("dtype", dtype.name());
                ArrayNode shape = entry.putArray("shape");
                for (long dimension : info.shape()) {
                    shape.add(dimension);
                }
                entry.putArray("data_offsets").add(offset).add(offset + length);
                offset += length;
            }
            try (OutputStream out = Files.newOutputStream(temporary)) {
                out.write(paddedHeader(JSON.writeValueAsBytes(json)));
                for (SafetensorsHeader.TensorInfo info : header.tensors()) {
                    ByteBuffer bytes = in.map(FileChannel.MapMode.READ_ONLY, info.begin(), info.end() - info.begin())
                            .order(ByteOrder.LITTLE_ENDIAN);
                    if (info.dtype() != TensorDtype.F32) {
                        byte[] copy = new byte[bytes.remaining()];
                        bytes.get(copy);
                        out.write(copy);
                        continue;
                    }
                    int n = Math.toIntExact(info.elements());
                    ByteBuffer narrowed = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < n; i++) {
                        float value = bytes.getFloat(i * 4);
                        narrowed.putShort(
                                target == TensorDtype.BF16
                                        ? HalfFloats.toBfloat16(value)
                                        : HalfFloats.toFloat16(value));
                    }
                    out.write(narrowed.array());
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The header's length and JSON, padded with spaces to a multiple of 8 bytes. */
    private static byte[] paddedHeader(byte[] json) {
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(json);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        return prefix.array();
    }

    private static TensorDtype dtypeOf(String name, DataType type) {
        return switch (type) {
            case FLOAT32 -> TensorDtype.F32;
            case FLOAT64 -> TensorDtype.F64;
            case INT64 -> TensorDtype.I64;
            case INT32 -> TensorDtype.I32;
            case INT8 -> TensorDtype.I8;
            case UINT8 -> TensorDtype.U8;
            case BOOLEAN -> TensorDtype.BOOL;
            default ->
                throw new IllegalArgumentException(
                        "tensor " + name + " of type " + type + " cannot be written; convert it to float32 first");
        };
    }

    private static byte[] littleEndianBytes(NDArray tensor, TensorDtype dtype) {
        int n = Math.toIntExact(tensor.getShape().size());
        ByteBuffer out = ByteBuffer.allocate(n * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> out.asFloatBuffer().put(tensor.toFloatArray());
            case F64 -> out.asDoubleBuffer().put(tensor.toDoubleArray());
            case I64 -> out.asLongBuffer().put(tensor.toLongArray());
            case I32 -> out.asIntBuffer().put(tensor.toIntArray());
            default -> out.put(tensor.toByteArray());
        }
        return out.array();
    }
}
