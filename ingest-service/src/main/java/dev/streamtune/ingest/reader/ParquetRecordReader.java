package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.SourceRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
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
            return RawRecord.failed(SourceRef.inFile(kind, name, 0, ++rows), new byte[0], 0, "row " + rows
                    + ": unreadable Parquet data: " + e.getMessage() + "; the rest of the file could not be read");
        }
        if (row == null) {
            return null;
        }
        SourceRef source = SourceRef.inFile(kind, name, 0, ++rows);
        ObjectNode record;
        try {
            record = struct(row, row.getType());
        } catch (InvalidTextException e) {
            return RawRecord.failed(source, new byte[0], 0, "row " + rows + ": column '" + e.column
                    + "' holds invalid UTF-8; text must be UTF-8");
        }
        byte[] bytes = record.toString().getBytes(StandardCharsets.UTF_8);
        byte[] payload = Arrays.copyOf(bytes, Math.min(bytes.length, limits.payloadBytes()));
        if (bytes.length > limits.maxRecordBytes()) {
            return RawRecord.failed(source, payload, bytes.length, "row " + rows + ": " + limits.tooLarge(bytes.length));
        }
        return RawRecord.parsed(source, record, payload, bytes.length);
    }

    private static ObjectNode struct(Group group, GroupType type) throws InvalidTextException {
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        for (int field = 0; field < type.getFieldCount(); field++) {
            Type fieldType = type.getType(field);
            int count = group.getFieldRepetitionCount(field);
            if (fieldType.isRepetition(Type.Repetition.REPEATED)) {
                ArrayNode values = object.putArray(fieldType.getName());
                for (int i = 0; i < count; i++) {
                    values.add(value(group, field, i, fieldType));
                }
            } else if (count > 0) {
                object.set(fieldType.getName(), value(group, field, 0, fieldType));
            }
        }
        return object;
    }

    private static JsonNode value(Group group, int field, int index, Type type) throws InvalidTextException {
        if (type.isPrimitive()) {
            return primitive(group, field, index, type.asPrimitiveType());
        }
        Group child = group.getGroup(field, index);
        GroupType childType = type.asGroupType();
        LogicalTypeAnnotation logical = childType.getLogicalTypeAnnotation();
        if (logical instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation) {
            return list(child, childType);
        }
        if (logical instanceof LogicalTypeAnnotation.MapLogicalTypeAnnotation) {
            return map(child, childType);
        }
        return struct(child, childType);
    }

    /** LIST: a repeated group ("list") whose single field ("element") is the item; legacy files repeat the item itself. */
    private static ArrayNode list(Group list, GroupType type) throws InvalidTextException {
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        Type repeated = type.getType(0);
        for (int i = 0; i < list.getFieldRepetitionCount(0); i++) {
            if (!repeated.isPrimitive() && repeated.asGroupType().getFieldCount() == 1
                    && !repeated.getName().equals("array") && !repeated.getName().endsWith("_tuple")) {
                Group wrapper = list.getGroup(0, i);
                Type element = repeated.asGroupType().getType(0);
                array.add(wrapper.getFieldRepetitionCount(0) == 0 ? JsonNodeFactory.instance.nullNode()
                        : value(wrapper, 0, 0, element));
            } else {
                array.add(value(list, 0, i, repeated));
            }
        }
        return array;
    }

    private static ObjectNode map(Group map, GroupType type) throws InvalidTextException {
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        GroupType entryType = type.getType(0).asGroupType();
        for (int i = 0; i < map.getFieldRepetitionCount(0); i++) {
            Group entry = map.getGroup(0, i);
            String key = value(entry, 0, 0, entryType.getType(0)).asText();
            object.set(key, entry.getFieldRepetitionCount(1) == 0 ? JsonNodeFactory.instance.nullNode()
                    : value(entry, 1, 0, entryType.getType(1)));
        }
        return object;
    }

    private static JsonNode primitive(Group group, int field, int index, PrimitiveType type) throws InvalidTextException {
        JsonNodeFactory json = JsonNodeFactory.instance;
        return switch (type.getPrimitiveTypeName()) {
            case BOOLEAN -> json.booleanNode(group.getBoolean(field, index));
            case INT32 -> json.numberNode(group.getInteger(field, index));
            case INT64 -> json.numberNode(group.getLong(field, index));
            case FLOAT -> json.numberNode(group.getFloat(field, index));
            case DOUBLE -> json.numberNode(group.getDouble(field, index));
            case BINARY, FIXED_LEN_BYTE_ARRAY -> binary(group.getBinary(field, index), type);
            case INT96 -> json.textNode(Base64.getEncoder().encodeToString(group.getInt96(field, index).getBytes()));
        };
    }

    private static JsonNode binary(Binary value, PrimitiveType type) throws InvalidTextException {
        LogicalTypeAnnotation logical = type.getLogicalTypeAnnotation();
        boolean text = logical instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
                || logical instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation
                || logical instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation;
        byte[] bytes = value.getBytes();
        if (!text) {
            return JsonNodeFactory.instance.textNode(Base64.getEncoder().encodeToString(bytes));
        }
        try {
            return JsonNodeFactory.instance.textNode(StrictUtf8.decode(bytes, bytes.length));
        } catch (StrictUtf8.InvalidUtf8Exception e) {
            throw new InvalidTextException(type.getName());
        }
    }

    private static final class InvalidTextException extends Exception {
        final String column;

        InvalidTextException(String column) {
            super(column, null, false, false);
            this.column = column;
        }
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
