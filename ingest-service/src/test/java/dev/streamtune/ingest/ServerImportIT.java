package dev.streamtune.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.Message;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.ingest.rest.DatasetResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;

/** Server-side imports: a directory of gzip JSON Lines, Parquet and CSV, and the import root's walls. */
@QuarkusTest
class ServerImportIT {

    private static final Path ROOT = Path.of("target/import-root");

    @Test
    void importsEveryFileOfADirectoryWithOneReceiptEach() throws Exception {
        String tag = UUID.randomUUID().toString();
        Path dir = Files.createDirectories(ROOT.resolve(tag));
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve("chats.jsonl.gz")))) {
            for (int i = 0; i < 3; i++) {
                out.write(("{\"conversations\":[{\"from\":\"human\",\"value\":\"gz " + i + " " + tag
                                + "\"},{\"from\":\"gpt\",\"value\":\"ok\"}]}\r\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        writeParquet(dir.resolve("hub.parquet"), tag);
        Files.writeString(
                dir.resolve("dolly.csv"),
                "\uFEFFinstruction,context,response,category\r\n" + "Dolly one " + tag
                        + ",,First.,open_qa\r\nDolly two " + tag + ",Some context,Second.,closed_qa\r\n");
        Files.writeString(dir.resolve("README.txt"), "not data");
        String dataset = "import-" + tag;

        Response response = given().contentType("application/json")
                .body(Map.of("path", tag))
                .post("/datasets/" + dataset + "/imports");

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        DatasetResource.ImportReceipt receipt =
                EventJson.mapper().readValue(response.asByteArray(), DatasetResource.ImportReceipt.class);
        assertThat(receipt.files())
                .extracting(r -> r.source())
                .containsExactly(tag + "/chats.jsonl.gz", tag + "/dolly.csv", tag + "/hub.parquet");
        assertThat(receipt.records()).isEqualTo(7);
        assertThat(receipt.published()).isEqualTo(7);
        assertThat(receipt.files())
                .allSatisfy(file -> assertThat(file.balanced()).isTrue());

        List<Conversation> published = UploadRealDataIT.conversationsOf(dataset);
        assertThat(published).hasSize(7);
        assertThat(published)
                .filteredOn(c -> c.format().equals("sharegpt"))
                .extracting(c -> c.messages().get(0).content())
                .contains("gz 0 " + tag, "gz 2 " + tag);
        assertThat(published)
                .filteredOn(c -> c.format().equals("dolly"))
                .extracting(c -> c.messages().get(0))
                .contains(Message.user("Dolly two " + tag + "\n\nSome context"));
        Conversation fromParquet = published.stream()
                .filter(c -> c.source().name().endsWith("hub.parquet"))
                .findFirst()
                .orElseThrow();
        assertThat(fromParquet.messages()).hasSize(2);
        assertThat(fromParquet.source().record()).isNotNull();
    }

    @Test
    void pathsThatLeaveTheImportRootAreRefused() throws IOException {
        Path outside = Files.createTempFile("outside-", ".jsonl");
        Files.writeString(outside, "{\"text\":\"secret\"}\n");
        String walls = "walls-" + UUID.randomUUID();
        Path inside = Files.createDirectories(ROOT.resolve(walls));
        Files.createSymbolicLink(inside.resolve("link.jsonl"), outside.toAbsolutePath());

        assertRefused("../pom.xml", "resolves outside the import root");
        assertRefused(outside.toAbsolutePath().toString(), "resolves outside the import root");
        assertRefused(walls + "/link.jsonl", "through a symbolic link");
        assertRefused(walls, "through a symbolic link");
        given().contentType("application/json")
                .body(Map.of("path", "no-such-file.json"))
                .post("/datasets/walls/imports")
                .then()
                .statusCode(404);
    }

    private static void assertRefused(String path, String reason) {
        Response response = given().contentType("application/json")
                .body(Map.of("path", path))
                .post("/datasets/walls/imports");
        assertThat(response.statusCode()).as(path).isEqualTo(400);
        assertThat(response.jsonPath().getString("detail")).as(path).contains(reason);
    }

    private static void writeParquet(Path file, String tag) throws IOException {
        MessageType schema = MessageTypeParser.parseMessageType("""
                message row {
                  optional binary id (STRING);
                  optional group conversations (LIST) {
                    repeated group list {
                      optional group element { optional binary from (STRING); optional binary value (STRING); }
                    }
                  }
                }""");
        SimpleGroupFactory rows = new SimpleGroupFactory(schema);
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new LocalOutputFile(file))
                .withType(schema)
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .build()) {
            for (int i = 0; i < 2; i++) {
                Group row = rows.newGroup().append("id", "p" + i);
                Group turns = row.addGroup("conversations");
                turns.addGroup("list")
                        .addGroup("element")
                        .append("from", "human")
                        .append("value", "parquet " + i + " " + tag);
                turns.addGroup("list").addGroup("element").append("from", "gpt").append("value", "answer " + i);
                writer.write(row);
            }
        }
    }
}
