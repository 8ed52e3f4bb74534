package dev.streamtune.lm.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The validated header of a safetensors file: 8-byte little-endian length N, N bytes of UTF-8 JSON mapping tensor
 * names to {dtype, shape, data_offsets} (plus an optional string map {@code __metadata__}), then the data.
 *
 * <p>Everything a hostile or truncated file could lie about is checked before a byte of data is touched: the
 * header length against the file size and a hard cap, the JSON (no duplicate names), each dtype and shape, each
 * byte range against its shape (with overflow checks), and that the ranges tile the data region exactly, with no
 * gap and no overlap. A bad file is a {@link SafetensorsFormatException}, never a huge allocation or an
 * out-of-bounds read.
 */
public record SafetensorsHeader(Path file, List<TensorInfo> tensors, Map<String, String> metadata, long dataStart) {

    /** The reference implementation refuses headers above 100 MB; so does this one. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    static {
        JSON.getFactory()
                .setStreamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(8)
                        .maxStringLength((int) MAX_HEADER_BYTES)
                        .build());
    }

    /** One tensor's entry; offsets are absolute positions in the file. */
    public record TensorInfo(String name, TensorDtype dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long dimension : shape) {
                n *= dimension;
            }
            return n;
        }
    }

    public TensorInfo tensor(String name) {
        return tensors.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(file + " has no tensor " + name));
    }

    public static SafetensorsHeader read(FileChannel channel, Path file) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw bad(file, "is " + size + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.flip().getLong();
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
            throw bad(
                    file,
                    "declares a header of " + Long.toUnsignedString(headerLength) + " bytes, but the file has "
                            + (size - 8) + " bytes after the length field (and headers are capped at "
                            + MAX_HEADER_BYTES + ")");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(headerBytes.flip())
                    .toString();
        } catch (CharacterCodingException e) {
            throw bad(file, "has a header that is not UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw bad(
                    file,
                    "has a header that is not valid JSON: "
                            + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "has a header that is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getKey().equals("__metadata__")) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                tensors.add(readTensor(file, field.getKey(), field.getValue(), dataStart, dataSize));
            }
        }
        checkTiling(file, tensors, dataStart, dataSize);
        return new SafetensorsHeader(file, List.copyOf(tensors), Map.copyOf(metadata), dataStart);
    }

    private static TensorInfo readTensor(Path file, String name, JsonNode entry, long dataStart, long dataSize)
            throws SafetensorsFormatException {
        if (!entry.isObject()) {
            throw bad(file, "tensor '" + name + "': entry is not an object");
        }
        TensorDtype dtype;
        try {
            dtype = TensorDtype.valueOf(entry.path("dtype").asText(""));
        } catch (IllegalArgumentException e) {
            throw bad(
                    file,
                    "tensor '" + name + "': unsupported dtype '"
                            + entry.path("dtype").asText() + "'");
        }
        JsonNode shapeNode = entry.get("shape");
        JsonNode offsets = entry.get("data_offsets");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw bad(file, "tensor '" + name + "': shape is missing or not a list");
        }
        if (offsets == null
                || !offsets.isArray()
                || offsets.size() != 2
                || !offsets.get(0).canConvertToLong()
                || !offsets.get(1).canConvertToLong()) {
            throw bad(file, "tensor '" + name + "': data_offsets must be [begin, end]");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        try {
            for (int i = 0; i < shape.length; i++) {
                JsonNode dimension = shapeNode.get(i);
                if (!dimension.isIntegralNumber() || !dimension.canConvertToLong() || dimension.asLong() < 0) {
                    throw bad(file, "tensor '" + name + "': shape " + shapeNode + " must hold non-negative integers");
                }
                shape[i] = dimension.asLong();
                elements = Math.multiplyExact(elements, shape[i]);
            }
            long begin = offsets.get(0).asLong();
            long end = offsets.get(1).asLong();
            long expected = Math.multiplyExact(elements, dtype.bytes());
            if (begin < 0 || end < begin || end > dataSize) {
                throw bad(
                        file,
                        "tensor '" + name + "': data_offsets [" + begin + ", " + end + "] fall outside the " + dataSize
                                + " bytes of data");
            }
            if (end - begin != expected) {
                throw bad(
                        file,
                        "tensor '" + name + "': " + (end - begin) + " bytes of data for shape " + shapeNode + " of "
                                + dtype + ", which needs " + expected);
            }
            return new TensorInfo(name, dtype, shape, dataStart + begin, dataStart + end);
        } catch (ArithmeticException overflow) {
            throw bad(file, "tensor '" + name + "': shape " + shapeNode + " overflows");
        }
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> metadata)
            throws SafetensorsFormatException {
        if (!node.isObject()) {
            throw bad(file, "__metadata__ is not an object");
        }
        Iterator<Map.Entry<String, JsonNode>> entries = node.fields();
        while (entries.hasNext()) {
            Map.Entry<String, JsonNode> entry = entries.next();
            if (!entry.getValue().isTextual()) {
                throw bad(file, "__metadata__ value of '" + entry.getKey() + "' is not a string");
            }
            metadata.put(entry.getKey(), entry.getValue().textValue());
        }
    }

    /** The byte ranges, sorted, must cover the data region exactly once. */
    private static void checkTiling(Path file, List<TensorInfo> tensors, long dataStart, long dataSize)
            throws SafetensorsFormatException {
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = dataStart;
        for (TensorInfo tensor : sorted) {
            if (tensor.begin() != expected) {
                throw bad(
                        file,
                        tensor.begin() < expected
                                ? "tensor '" + tensor.name() + "' overlaps the data of another tensor"
                                : "there are " + (tensor.begin() - expected) + " unused bytes before tensor '"
                                        + tensor.name() + "'");
            }
            expected = tensor.end();
        }
        if (expected != dataStart + dataSize) {
            throw bad(file, "has " + (dataStart + dataSize - expected) + " bytes of data after the last tensor");
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                throw new SafetensorsFormatException("unexpected end of file at byte " + at);
            }
            at += read;
        }
    }

    private static SafetensorsFormatException bad(Path file, String problem) {
        return new SafetensorsFormatException("safetensors file " + file + ": " + problem);
    }
}
