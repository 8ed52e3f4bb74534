package dev.streamtune.events;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.DatasetWeight;
import dev.streamtune.events.recipe.JolaConfig;
import dev.streamtune.events.recipe.LoraConfig;
import dev.streamtune.events.recipe.ModelConfig;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.events.recipe.TrainingConfig;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** One fully populated instance of every event, for round-trip tests. */
final class EventSamples {

    static final Instant AT = Instant.parse("2026-11-22T10:15:30.123456Z");

    static Conversation conversation() {
        ObjectNode metadata = JsonNodeFactory.instance.objectNode();
        metadata.put("augmented", true);
        metadata.putObject("origin").put("site", "forum").put("score", 4.5);
        return new Conversation(
                Conversation.SCHEMA_VERSION,
                "3f2a",
                "emogpt",
                SourceRef.inFile(SourceRef.Kind.UPLOAD, "chats.jsonl", 12, 12),
                Split.VALID,
                List.of(Message.system("Be kind."), Message.user("  hi\n"), Message.assistant("Hello!")),
                metadata,
                "alpaca",
                new InstructionParts("Summarise.", "A long text."),
                AT);
    }

    static DeadLetter deadLetter() {
        return DeadLetter.from("ingest", SourceRef.inTopic(Topics.CONVERSATIONS_RAW, 2, 17))
                .dataset("alpaca")
                .reason("offset 17: field 'output': expected a string, found number")
                .field("output")
                .payload("{\"instruction\":\"x\",\"output\":3}".getBytes(StandardCharsets.UTF_8))
                .payloadLimit(1024)
                .build();
    }

    static Recipe recipe() {
        return new Recipe(
                Recipe.SCHEMA_VERSION,
                "r-1",
                "jola-sharegpt",
                new ModelConfig(
                        "meta-llama/Llama-3.1-8B-Instruct",
                        "llama",
                        "bf16",
                        "attention",
                        "llama3.1_8B_chat",
                        null,
                        "cuda",
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null),
                new DataConfig(
                        List.of(new DatasetWeight("sharegpt", 0.7), new DatasetWeight("alpaca", 0.3)),
                        null,
                        "sharegpt",
                        2000,
                        200,
                        200,
                        "chatml",
                        null,
                        "You are helpful.",
                        1024,
                        true,
                        "assistant",
                        "drop",
                        null,
                        null,
                        "default",
                        null),
                new TrainingConfig(
                        0.003,
                        "cosine",
                        null,
                        50,
                        null,
                        2,
                        2,
                        4,
                        3.0,
                        null,
                        "epoch",
                        null,
                        "epoch",
                        null,
                        1,
                        true,
                        2,
                        42L,
                        true,
                        0.0,
                        1.0,
                        0.9,
                        0.999,
                        1e-8,
                        "token",
                        "./output",
                        "lora",
                        null,
                        "adamw_torch",
                        null,
                        null,
                        null),
                new LoraConfig(
                        16,
                        32.0,
                        0.05,
                        new TargetModules(List.of("q_proj", "v_proj"), null),
                        "none",
                        false,
                        false,
                        null),
                new JolaConfig(4e-5, "expon", "coded"),
                AT);
    }

    static FormattedExample formattedExample() {
        return new FormattedExample(
                FormattedExample.SCHEMA_VERSION,
                "r-1",
                "3f2a",
                "emogpt",
                Split.TRAIN,
                "chatml",
                List.of(
                        new Segment("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", false),
                        new Segment("Hello!<|im_end|>", true),
                        new Segment("\n", false)),
                "Hello!",
                SourceRef.inFile(SourceRef.Kind.FILE, "data/a.json", 3, 1));
    }

    static TrainBatch trainBatch() {
        PackedSequence row = new PackedSequence(
                TokenIds.of(1, 5, 9, 2, 1, 7, 2, 0),
                TokenIds.of(-100, -100, 9, 2, -100, 7, 2, -100),
                TokenIds.of(0, 1, 2, 3, 0, 1, 2, 0),
                List.of(0, 4),
                7,
                4);
        return new TrainBatch(
                TrainBatch.SCHEMA_VERSION,
                "r-1",
                41,
                8,
                List.of(row),
                4,
                7,
                List.of("r-1:a", "r-1:b"),
                Map.of(0, 99L, 2, 12L),
                AT);
    }

    static EvalExample evalExample() {
        return new EvalExample(
                EvalExample.SCHEMA_VERSION,
                "r-1",
                "3f2a",
                "emogpt",
                Split.TEST,
                TokenIds.of(1, 5, 9, 2),
                TokenIds.of(-100, -100, 9, 2),
                2,
                "Hello!",
                "r-1:3f2a#1");
    }

    static CheckpointEvent checkpointEvent() {
        return new CheckpointEvent(
                CheckpointEvent.SCHEMA_VERSION,
                "r-1",
                "run-7",
                200,
                409_600,
                1.234,
                "file:///artefacts/r-1/run-7/step-200",
                "peft-lora",
                "sha256:00ff",
                Map.of(0, 201L),
                AT);
    }

    static Evaluation evaluation() {
        return new Evaluation(
                Evaluation.SCHEMA_VERSION,
                "r-1",
                "run-7",
                200,
                "file:///artefacts/r-1/run-7/step-200",
                Split.VALID,
                200,
                51_234,
                1.5,
                Math.exp(1.5),
                0.61,
                Map.of("exact_match", 0.12, "rouge_l", 0.4),
                AT);
    }

    private EventSamples() {}
}
