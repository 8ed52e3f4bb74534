package dev.streamtune.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The real model and conversations in {@code ../shared} that the training tests run on: stories260K and the ShareGPT
 * sample. Where they are absent the calling test is skipped, saying so.
 */
final class SharedFixtures {

    static final Path SHARED = Path.of(System.getProperty("streamtune.shared.dir", "../../shared"))
            .toAbsolutePath().normalize();
    private static final Path SHAREGPT = SHARED.resolve("data/sharegpt/fastchat_dummy_conversation.json");

    private SharedFixtures() {
    }

    /** The models folder (stories260K under it), after skipping the test when the fixtures are absent. */
    static Path models() {
        Path models = SHARED.resolve("models");
        Assumptions.assumeTrue(Files.exists(models.resolve("stories260K/stories260K.bin")) && Files.exists(SHAREGPT),
                "skipped: " + SHARED + " (stories260K and the ShareGPT sample) is absent");
        return models;
    }

    /** The ShareGPT sample's conversations, in file order. */
    static List<JsonNode> sharegptConversations() throws IOException {
        List<JsonNode> conversations = new ArrayList<>();
        new ObjectMapper().readTree(SHAREGPT.toFile()).forEach(conversations::add);
        return conversations;
    }
}
