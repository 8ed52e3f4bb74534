package dev.streamtune.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

class DeadLetterTest {

    private static final SourceRef SOURCE = SourceRef.inFile(SourceRef.Kind.UPLOAD, "big.jsonl", 5, 5);

    @Test
    void keepsASmallPayloadWhole() {
        DeadLetter letter = DeadLetter.from("ingest", SOURCE)
                .dataset("d")
                .reason("r")
                .payload("{\"a\":1}".getBytes())
                .payloadLimit(100)
                .build();

        assertThat(letter.payload()).isEqualTo("{\"a\":1}");
        assertThat(letter.payloadTruncated()).isFalse();
        assertThat(letter.payloadBytes()).isEqualTo(7);
    }

    @Test
    void cutsALargePayloadOnACharacterBoundaryAndKeepsItsSize() {
        byte[] payload = "ab\u00e9\u00e9\u00e9".getBytes(StandardCharsets.UTF_8); // a b then three 2-byte chars

        DeadLetter letter = DeadLetter.from("ingest", SOURCE)
                .dataset("d")
                .reason("r")
                .payload(payload)
                .payloadLimit(5)
                .build();

        assertThat(letter.payload()).isEqualTo("ab\u00e9"); // byte 5 is inside the second é: cut before it
        assertThat(letter.payloadTruncated()).isTrue();
        assertThat(letter.payloadBytes()).isEqualTo(8);
    }

    @Test
    void aHeadCutByTheReaderKeepsTheOriginalSize() {
        byte[] head = "{\"text\":\"xxxx".getBytes(StandardCharsets.UTF_8);

        DeadLetter letter = DeadLetter.from("ingest", SOURCE)
                .dataset("d")
                .reason("r")
                .payloadHead(head, 10_000_000L)
                .payloadLimit(1024)
                .build();

        assertThat(letter.payload()).isEqualTo("{\"text\":\"xxxx");
        assertThat(letter.payloadTruncated()).isTrue();
        assertThat(letter.payloadBytes()).isEqualTo(10_000_000L);
    }

    @Test
    void aCutLetterKeepsTheHeadOfItsPayloadAndReasonAndSaysWhy() {
        DeadLetter letter = DeadLetter.from("tokenize", SOURCE)
                .reason("r".repeat(50))
                .payload("ab\u00e9\u00e9\u00e9".getBytes(StandardCharsets.UTF_8))
                .payloadLimit(100)
                .build();

        DeadLetter cut = letter.cut(5, " (cut)");

        assertThat(cut.payload()).isEqualTo("ab\u00e9");
        assertThat(cut.payloadTruncated()).isTrue();
        assertThat(cut.payloadBytes()).isEqualTo(8);
        assertThat(cut.reason()).isEqualTo("rrrrr... (cut)");
        assertThat(cut.source()).isEqualTo(SOURCE);
        assertThat(cut.stage()).isEqualTo("tokenize");
    }

    @Test
    void theBuilderNamesEveryPartAndKeysByTheSource() {
        DeadLetter letter = DeadLetter.from("tokenize", SourceRef.inTopic("examples", 2, 9))
                .recipe("r1")
                .dataset("alpaca")
                .field("segments")
                .reason("too long")
                .build();

        assertThat(letter.stage()).isEqualTo("tokenize");
        assertThat(letter.recipeId()).isEqualTo("r1");
        assertThat(letter.dataset()).isEqualTo("alpaca");
        assertThat(letter.field()).isEqualTo("segments");
        assertThat(letter.payloadBytes()).isZero();
        assertThat(letter.key()).isEqualTo("examples-2@9");
    }

    @Test
    void aDeadLetterWithoutAReasonIsRefused() {
        Assertions.assertThatNullPointerException()
                .isThrownBy(() -> DeadLetter.from("format", SOURCE).build())
                .withMessage("reason");
    }

    @Test
    void sourceRefDescribesFilesAndTopics() {
        assertThat(SOURCE.describe()).isEqualTo("big.jsonl:5#5");
        assertThat(SourceRef.inTopic("conversations-raw", 1, 42).describe()).isEqualTo("conversations-raw-1@42");
    }
}
