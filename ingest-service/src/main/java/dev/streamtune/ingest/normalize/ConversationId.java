package dev.streamtune.ingest.normalize;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.streamtune.events.Message;
import dev.streamtune.events.serde.EventJson;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The stable id of a conversation: the SHA-256 of its canonical messages, {@code [{"role":...,"content":...}]} as
 * compact UTF-8 JSON. The same turns always give the same id, wherever and whenever they are ingested, which is
 * what makes redelivery and re-ingestion recognisable. Metadata and source do not take part.
 */
public final class ConversationId {

    private ConversationId() {}

    public static String of(List<Message> messages) {
        try {
            byte[] canonical = EventJson.mapper().writeValueAsBytes(messages);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot hash messages", e);
        }
    }
}
