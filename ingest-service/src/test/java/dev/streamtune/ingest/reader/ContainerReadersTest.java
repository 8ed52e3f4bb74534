package dev.streamtune.ingest.reader;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.SourceRef;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ContainerReadersTest {

    private static final ReaderLimits LIMITS = new ReaderLimits(1024, 64);

    @TempDir
    Path dir;

    private List<RawRecord> read(String name, byte[] content, ContainerFormat container) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, content);
        List<RawRecord> records = new ArrayList<>();
        try (RecordReader reader = Containers.open(file, container, SourceRef.Kind.UPLOAD, name, LIMITS)) {
            reader.forEachRemaining(records::add);
        }
        return records;
    }

    private List<RawRecord> read(String name, String content) throws IOException {
        return read(name, content.getBytes(StandardCharsets.UTF_8), null);
    }

    @Test
    void jsonListElementsKeepTheirLinesAndStringsMayHoldBrackets() throws IOException {
        List<RawRecord> records =
                read("a.json", "\uFEFF[\n {\"text\": \"a ] } [ { \\\" b\"},\n\n {\"text\": \"c\"}\n]\n");

        assertThat(records).allMatch(RawRecord::isParsed);
        assertThat(records).extracting(r -> r.value().get("text").asText()).containsExactly("a ] } [ { \" b", "c");
        assertThat(records).extracting(r -> r.source().line()).containsExactly(2L, 4L);
        assertThat(records).extracting(r -> r.source().record()).containsExactly(1L, 2L);
    }

    @Test
    void aMalformedListElementIsOneFailureAndReadingGoesOn() throws IOException {
        List<RawRecord> records =
                read("b.json", "[{\"text\": \"a\"},\n  {\"text\": tru},\n{\"text\": \"c\"} {\"text\": \"d\"}]");

        assertThat(records).hasSize(4);
        assertThat(records.get(0).isParsed()).isTrue();
        assertThat(records.get(1).problem()).startsWith("line 2 column 12: invalid JSON: Unrecognized token 'tru'");
        assertThat(records.get(2).isParsed()).isTrue();
        assertThat(records.get(3).problem()).isEqualTo("line 3: invalid JSON: expected ',' or ']' before this record");
    }

    @Test
    void anOversizeListElementIsSkippedWithItsSize() throws IOException {
        String big = "{\"text\": \"" + "z".repeat(2000) + "\"}";
        List<RawRecord> records = read("c.json", "[" + big + ", {\"text\": \"after\"}]");

        assertThat(records.get(0).problem())
                .isEqualTo("line 1: record is " + big.length()
                        + " bytes, over the limit of 1024 bytes (ingest.max-record-size)");
        assertThat(records.get(0).payload()).hasSize(64);
        assertThat(records.get(1).value().get("text").asText()).isEqualTo("after");
    }

    @Test
    void contentAfterTheListAndAnEmptyFileAreHandled() throws IOException {
        assertThat(read("d.json", "[{\"text\":\"x\"}] trailing"))
                .extracting(RawRecord::problem)
                .containsExactly(null, "line 1: unexpected content after the end of the list");
        assertThat(read("e.json", "  \n")).isEmpty();
    }

    @Test
    void jsonLinesHandleCrlfBlankLinesAndAMissingFinalNewline() throws IOException {
        List<RawRecord> records =
                read("f.jsonl", "\uFEFF{\"text\":\"a\"}\r\n\r\n   \n{\"text\":\"b\\r\"}\r\n{\"text\":\"c\"}");

        assertThat(records).extracting(r -> r.value().get("text").asText()).containsExactly("a", "b\r", "c");
        assertThat(records).extracting(r -> r.source().line()).containsExactly(1L, 4L, 5L);
    }

    @Test
    void aSecondValueOrTrailingTextOnAJsonLineIsRejectedWhereItStarts() throws IOException {
        List<RawRecord> records = read(
                "g.jsonl",
                "{\"text\":\"one\"}{\"text\":\"two\"}\n"
                        + "{\"text\":\"three\"} trailing junk\n{\"text\":\"four\"}  \n");

        assertThat(records).hasSize(3);
        assertThat(records.get(0).problem())
                .isEqualTo("line 1 column 15: invalid JSON: content after the end of the"
                        + " record; a record is exactly one JSON value");
        assertThat(records.get(1).problem())
                .startsWith("line 2 column ")
                .endsWith(
                        ": invalid JSON: content after the" + " end of the record; a record is exactly one JSON value");
        assertThat(records.get(2).value().get("text").asText()).isEqualTo("four");
    }

    @Test
    void aListElementWithTrailingContentIsRejectedLikeALine() throws IOException {
        List<RawRecord> records = read("h.json", "[{\"text\":\"a\"},\n 1}2,\n{\"text\":\"b\"}]");

        assertThat(records)
                .extracting(RawRecord::problem)
                .containsExactly(
                        null,
                        "line 2 column 3: invalid JSON: content after the end of the record; a record is exactly one JSON value",
                        null);
    }

    @Test
    void aRawTopicMessageHoldingTwoValuesIsRejected() {
        SourceRef offset = SourceRef.inTopic("conversations-raw", 0, 7);
        byte[] two = "{\"text\":\"one\"}{\"text\":\"two\"}".getBytes(StandardCharsets.UTF_8);

        RawRecord record = RawRecords.fromMessage(two, offset, LIMITS);

        assertThat(record.problem())
                .isEqualTo("partition 0 offset 7, line 1 column 15: invalid JSON: content after"
                        + " the end of the record; a record is exactly one JSON value");
        assertThat(RawRecords.fromMessage("{\"text\":\"one\"}\n".getBytes(StandardCharsets.UTF_8), offset, LIMITS)
                        .isParsed())
                .isTrue();
    }

    @ParameterizedTest(name = "line ending {0}")
    @ValueSource(strings = {"LF", "CRLF", "CR"})
    void invalidUtf8InACsvRowRejectsThatRowAloneOnItsOwnLine(String ending) throws IOException {
        String eol = switch (ending) {
            case "LF" -> "\n";
            case "CRLF" -> "\r\n";
            default -> "\r";
        };
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(("text" + eol + "good row" + eol).getBytes(StandardCharsets.UTF_8));
        file.writeBytes(("bad \u00ff row" + eol).getBytes(StandardCharsets.ISO_8859_1)); // 0xFF alone
        file.writeBytes(("\"two" + eol + "lines\"" + eol + "after" + eol).getBytes(StandardCharsets.UTF_8));

        List<RawRecord> records = read("u.csv", file.toByteArray(), ContainerFormat.CSV);

        assertThat(records)
                .extracting(RawRecord::problem)
                .containsExactly(
                        null,
                        "line 3: invalid UTF-8 at byte 5 of the record (0xFF); the file must be UTF-8",
                        null,
                        null);
        assertThat(records).extracting(r -> r.source().line()).containsExactly(2L, 3L, 4L, 6L);
        assertThat(records.get(0).value().get("text").asText()).isEqualTo("good row");
        assertThat(records.get(2).value().get("text").asText()).isEqualTo("two" + eol + "lines");
        assertThat(records.get(3).value().get("text").asText()).isEqualTo("after");
    }

    @Test
    void quotesInsideOrDoubledInCsvValuesKeepRowsApart() throws IOException {
        List<RawRecord> records = read("q.csv", "a,b\nsay \"hi,\"\"\"x\"\"\"\n  \"two\nlines\", \"c\n\"\"\"\",\"\"\n");

        assertThat(records).allMatch(RawRecord::isParsed);
        assertThat(records)
                .extracting(r ->
                        r.value().get("a").asText() + "|" + r.value().get("b").asText())
                .containsExactly("say \"hi|\"x\"", "two\nlines| \"c", "\"|");
        assertThat(records).extracting(r -> r.source().line()).containsExactly(2L, 3L, 5L);
    }

    @Test
    void aCsvRowOverTheLimitIsRejectedWithItsSizeInTheFileAndTheNextRowIsRead() throws IOException {
        String big = "\"" + "x".repeat(1500) + "\n" + "y".repeat(1500) + "\"," + "z".repeat(100);
        List<RawRecord> records = read("v.csv", "text,other\n" + big + "\nsmall,row\n");

        assertThat(records.get(0).problem())
                .isEqualTo("line 2: record is " + big.length()
                        + " bytes, over the limit of 1024 bytes (ingest.max-record-size)");
        assertThat(records.get(0).payload()).hasSize(64);
        assertThat(records.get(1).source().line()).isEqualTo(4L);
        assertThat(records.get(1).value().get("other").asText()).isEqualTo("row");
    }

    @Test
    void aCsvCellFarOverTheLimitIsSkippedNotBuiltAndReadingGoesOn() throws IOException {
        // Longer than the CSV parser's own 20M-character value limit: a row must be refused before it is held.
        int cell = 21_000_000;
        ByteArrayOutputStream file = new ByteArrayOutputStream(cell + 64);
        file.writeBytes("text\n\"".getBytes(StandardCharsets.UTF_8));
        file.writeBytes("w".repeat(cell).getBytes(StandardCharsets.UTF_8));
        file.writeBytes("\"\nnext\n".getBytes(StandardCharsets.UTF_8));

        List<RawRecord> records = read("w.csv", file.toByteArray(), ContainerFormat.CSV);

        assertThat(records)
                .extracting(RawRecord::problem)
                .containsExactly(
                        "line 2: record is " + (cell + 2)
                                + " bytes, over the limit of 1024 bytes (ingest.max-record-size)",
                        null);
        assertThat(records.get(1).value().get("text").asText()).isEqualTo("next");
    }

    private List<RawRecord> readParquet(String schema, Function<SimpleGroupFactory, List<Group>> rows)
            throws IOException {
        Path file = dir.resolve("p.parquet");
        MessageType type = MessageTypeParser.parseMessageType(schema);
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new LocalOutputFile(file))
                .withType(type)
                .build()) {
            for (Group row : rows.apply(new SimpleGroupFactory(type))) {
                writer.write(row);
            }
        }
        List<RawRecord> records = new ArrayList<>();
        try (RecordReader reader = Containers.open(file, null, SourceRef.Kind.UPLOAD, "p.parquet", LIMITS)) {
            reader.forEachRemaining(records::add);
        }
        return records;
    }

    @Test
    void parquetBytesWithoutATextTypeAreRefusedNamingTheColumnNotTrainedAsBase64() throws IOException {
        List<RawRecord> records = readParquet("""
                message row {
                  optional binary text (STRING);
                  optional binary blob;
                  optional group turns (LIST) {
                    repeated group list { optional group element { optional binary value; } }
                  }
                }""", rows -> {
            Group nested = rows.newGroup().append("text", "three");
            nested.addGroup("turns").addGroup("list").addGroup("element").append("value", "four");
            return List.of(
                    rows.newGroup().append("text", "one").append("blob", "two"),
                    nested,
                    rows.newGroup().append("text", "five"));
        });

        assertThat(records)
                .extracting(RawRecord::problem)
                .containsExactly(
                        "row 1: column 'blob' is BINARY with no logical type, which holds bytes, not text; expected a column"
                                + " annotated STRING (UTF8), ENUM or JSON, or a DECIMAL or UUID",
                        "row 2: column 'turns[].value' is BINARY with no logical type, which holds bytes, not text; expected a"
                                + " column annotated STRING (UTF8), ENUM or JSON, or a DECIMAL or UUID",
                        null);
        assertThat(records.get(2).value().get("text").asText()).isEqualTo("five");
    }

    @Test
    void parquetDecimalsAndUuidsAreReadAsTheirDeclaredTypes() throws IOException {
        UUID id = UUID.fromString("123e4567-e89b-12d3-a456-426614174000");
        List<RawRecord> records = readParquet(
                """
                message row {
                  required fixed_len_byte_array(16) id (UUID);
                  required binary price (DECIMAL(9,2));
                  required int32 rating (DECIMAL(3,1));
                }""",
                rows -> List.of(rows.newGroup()
                        .append(
                                "id",
                                Binary.fromConstantByteArray(ByteBuffer.allocate(16)
                                        .putLong(id.getMostSignificantBits())
                                        .putLong(id.getLeastSignificantBits())
                                        .array()))
                        .append(
                                "price",
                                Binary.fromConstantByteArray(
                                        BigInteger.valueOf(-12345).toByteArray()))
                        .append("rating", 45)));

        JsonNode row = records.get(0).value();
        assertThat(row.get("id").asText()).isEqualTo(id.toString());
        assertThat(row.get("price").decimalValue()).isEqualByComparingTo("-123.45");
        assertThat(row.get("rating").decimalValue()).isEqualByComparingTo("4.5");
    }

    @Test
    void containerIsDetectedFromNameMediaTypeOrContent() {
        assertThat(ContainerFormat.fromFileName("x.jsonl.gz")).isEqualTo(ContainerFormat.JSONL);
        assertThat(ContainerFormat.fromFileName("x.parquet")).isEqualTo(ContainerFormat.PARQUET);
        assertThat(ContainerFormat.fromMediaType("application/x-ndjson; charset=utf-8"))
                .isEqualTo(ContainerFormat.JSONL);
        assertThat(ContainerFormat.fromMediaType("text/csv")).isEqualTo(ContainerFormat.CSV);
        assertThat(ContainerFormat.sniff("PAR1....".getBytes(), 8)).isEqualTo(ContainerFormat.PARQUET);
        assertThat(ContainerFormat.sniff("  [{".getBytes(), 4)).isEqualTo(ContainerFormat.JSON);
        assertThat(ContainerFormat.sniff("{\"a\"".getBytes(), 4)).isEqualTo(ContainerFormat.JSONL);
    }
}
