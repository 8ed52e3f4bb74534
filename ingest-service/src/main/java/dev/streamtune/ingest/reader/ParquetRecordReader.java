package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.SourceRef;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * Parquet files as the Hugging Face hub publishes datasets: each row becomes a JSON record, nested lists and
 * structs included ({@code conversations: list<struct<from, value>>}). Read with parquet-java; the file must be on
 * disk because Parquet's footer is at the end.
 */
final class ParquetRecordReader extends RecordReader {

    private final ParquetReader<Group> reader;
    private final SourceRef.Kind kind;
    private final String name;
    private final ReaderLimits limits;
    private long rows;
    private boolean failed;

    ParquetRecordReader(Path file, SourceRef.Kind kind, String name, ReaderLimits limits) throws IOException {
        super(name);
        this.reader = new ParquetReader.Builder<Group>(new LocalInputFile(file)) {
            @Override
            protected ReadSupport<Group> getReadSupport() {
                return new GroupReadSupport();
            }
        }.build();
        this.kind = kind;
        this.name = name;
        this.limits = limits;
    }

    @Override
    protected RawRecord readNext() {
        if (failed) {
            return null;
        }
        Group row;
        try {
            row = reader.read();
        } catch (IOException | RuntimeException e) {
            failed = true;
            return RawRecord.failed(
                    SourceRef.inFile(kind, name, 0, ++rows),
                    new byte[0],
                    0,
                    "row " + rows + ": unreadable Parquet data: " + e.getMessage()
                            + "; the rest of the file could not be read");
        }
        if (row == null) {
            return null;
        }
        SourceRef source = SourceRef.inFile(kind, name, 0, ++rows);
        ObjectNode record;
        try {
            record = struct(row, row.getType(), "");
        } catch (UnreadableValueException e) {
            return RawRecord.failed(source, new byte[0], 0, "row " + rows + ": column '" + e.column + "' " + e.problem);
        }
        byte[] bytes = record.toString().getBytes(StandardCharsets.UTF_8);
        byte[] payload = Arrays.copyOf(bytes, Math.min(bytes.length, limits.payloadBytes()));
        if (bytes.length > limits.maxRecordBytes()) {
            return RawRecord.failed(
                    source, payload, bytes.length, "row " + rows + ": " + limits.tooLarge(bytes.length));
        }
        return RawRecord.parsed(source, record, payload, bytes.length);
    }

    /** @param path the dotted path of the group, to name a column in an error ("" for the row itself) */
    private static ObjectNode struct(Group group, GroupType type, String path) throws UnreadableValueException {
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        for (int field = 0; field < type.getFieldCount(); field++) {
            Type fieldType = type.getType(field);
            String fieldPath = path.isEmpty() ? fieldType.getName() : path + "." + fieldType.getName();
            int count = group.getFieldRepetitionCount(field);
            if (fieldType.isRepetition(Type.Repetition.REPEATED)) {
                ArrayNode values = object.putArray(fieldType.getName());
                for (int i = 0; i < count; i++) {
                    values.add(value(group, field, i, fieldType, fieldPath + "[]"));
                }
            } else if (count > 0) {
                object.set(fieldType.getName(), value(group, field, 0, fieldType, fieldPath));
            }
        }
        return object;
    }

    private static JsonNode value(Group group, int field, int index, Type type, String path)
            throws UnreadableValueException {
        if (type.isPrimitive()) {
            return primitive(group, field, index, type.asPrimitiveType(), path);
        }
        Group child = group.getGroup(field, index);
        GroupType childType = type.asGroupType();
        LogicalTypeAnnotation logical = childType.getLogicalTypeAnnotation();
        if (logical instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation) {
            return list(child, childType, path);
        }
        if (logical instanceof LogicalTypeAnnotation.MapLogicalTypeAnnotation) {
            return map(child, childType, path);
        }
        return struct(child, childType, path);
    }

    /** LIST: a repeated group ("list") whose single field ("element") is the item; legacy files repeat the item itself. */
    private static ArrayNode list(Group list, GroupType type, String path) throws UnreadableValueException {
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        Type repeated = type.getType(0);
        for (int i = 0; i < list.getFieldRepetitionCount(0); i++) {
            if (!repeated.isPrimitive()
                    && repeated.asGroupType().getFieldCount() == 1
                    && !repeated.getName().equals("array")
                    && !repeated.getName().endsWith("_tuple")) {
                Group wrapper = list.getGroup(0, i);
                Type element = repeated.asGroupType().getType(0);
                array.add(
                        wrapper.getFieldRepetitionCount(0) == 0
                                ? JsonNodeFactory.instance.nullNode()
                                : value(wrapper, 0, 0, element, path + "[]"));
            } else {
                array.add(value(list, 0, i, repeated, path + "[]"));
            }
        }
        return array;
    }

    private static ObjectNode map(Group map, GroupType type, String path) throws UnreadableValueException {
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        GroupType entryType = type.getType(0).asGroupType();
        for (int i = 0; i < map.getFieldRepetitionCount(0); i++) {
            Group entry = map.getGroup(0, i);
            String key =
                    value(entry, 0, 0, entryType.getType(0), path + " (a key)").asText();
            object.set(
                    key,
                    entry.getFieldRepetitionCount(1) == 0
                            ? JsonNodeFactory.instance.nullNode()
                            : value(entry, 1, 0, entryType.getType(1), path + "." + key));
        }
        return object;
    }

    private static JsonNode primitive(Group group, int field, int index, PrimitiveType type, String path)
            throws UnreadableValueException {
        JsonNodeFactory json = JsonNodeFactory.instance;
        LogicalTypeAnnotation logical = type.getLogicalTypeAnnotation();
        int scale =
                logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation decimal ? decimal.getScale() : 0;
        return switch (type.getPrimitiveTypeName()) {
            case BOOLEAN -> json.booleanNode(group.getBoolean(field, index));
            case INT32 ->
                scale == 0
                        ? json.numberNode(group.getInteger(field, index))
                        : json.numberNode(BigDecimal.valueOf(group.getInteger(field, index), scale));
            case INT64 ->
                scale == 0
                        ? json.numberNode(group.getLong(field, index))
                        : json.numberNode(BigDecimal.valueOf(group.getLong(field, index), scale));
            case FLOAT -> json.numberNode(group.getFloat(field, index));
            case DOUBLE -> json.numberNode(group.getDouble(field, index));
            case BINARY, FIXED_LEN_BYTE_ARRAY -> binary(group.getBinary(field, index), type, path);
            case INT96 ->
                json.textNode(Base64.getEncoder()
                        .encodeToString(group.getInt96(field, index).getBytes()));
        };
    }

    /**
     * Bytes are read as what the column declares them to be. Bytes without a declared meaning are refused: shown as
     * base64 they would be trained on as if they were text.
     */
    private static JsonNode binary(Binary value, PrimitiveType type, String path) throws UnreadableValueException {
        LogicalTypeAnnotation logical = type.getLogicalTypeAnnotation();
        byte[] bytes = value.getBytes();
        if (logical instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
                || logical instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation
                || logical instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation) {
            try {
                return JsonNodeFactory.instance.textNode(StrictUtf8.decode(bytes, bytes.length));
            } catch (StrictUtf8.InvalidUtf8Exception e) {
                throw new UnreadableValueException(path, "holds invalid UTF-8; text must be UTF-8");
            }
        }
        if (logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation decimal) {
            return JsonNodeFactory.instance.numberNode(new BigDecimal(new BigInteger(bytes), decimal.getScale()));
        }
        if (logical instanceof LogicalTypeAnnotation.UUIDLogicalTypeAnnotation && bytes.length == 16) {
            ByteBuffer uuid = ByteBuffer.wrap(bytes);
            return JsonNodeFactory.instance.textNode(new UUID(uuid.getLong(), uuid.getLong()).toString());
        }
        throw new UnreadableValueException(
                path,
                "is " + type.getPrimitiveTypeName()
                        + (logical == null ? " with no logical type" : " annotated " + logical)
                        + ", which holds bytes, not"
                        + " text; expected a column annotated STRING (UTF8), ENUM or JSON, or a DECIMAL or UUID");
    }

    private static final class UnreadableValueException extends Exception {
        final String column;
        final String problem;

        UnreadableValueException(String column, String problem) {
            super(column + " " + problem, null, false, false);
            this.column = column;
            this.problem = problem;
        }
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
