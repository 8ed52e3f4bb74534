package dev.streamtune.events;

import java.util.List;

/** The topic names of the platform and how each is created. Services and deployments read them from here. */
public final class Topics {

    /** Any supported input record, as JSON, produced by anyone: the streaming door of ingestion. */
    public static final String CONVERSATIONS_RAW = "conversations-raw";
    /** Normalised {@link Conversation}s keyed by conversation id. */
    public static final String CONVERSATIONS = "conversations";
    /** Every stage's {@link DeadLetter}s, keyed by source reference. */
    public static final String CONVERSATIONS_REJECTED = "conversations-rejected";
    /** {@link Recipe}s keyed by recipe id; compacted, tombstones retire a recipe. */
    public static final String RECIPES = "recipes";
    /** {@link FormattedExample}s keyed by {@code recipeId:conversationId}. */
    public static final String EXAMPLES = "examples";
    /** {@link TrainBatch}es keyed by recipe id. */
    public static final String BATCHES = "batches";
    /** {@link EvalExample}s keyed by {@code recipeId:conversationId}. */
    public static final String EVAL_EXAMPLES = "eval-examples";
    /** {@link CheckpointEvent}s keyed by recipe id. */
    public static final String CHECKPOINTS = "checkpoints";
    /** {@link Evaluation}s keyed by recipe id. */
    public static final String EVALUATIONS = "evaluations";

    /**
     * How a topic is created. Partition counts are the defaults for the local stack and the Kubernetes manifests;
     * ordering matters only within a key, so more partitions are always safe.
     */
    public record TopicSpec(String name, int partitions, boolean compacted) {}

    public static final List<TopicSpec> ALL = List.of(
            new TopicSpec(CONVERSATIONS_RAW, 3, false),
            new TopicSpec(CONVERSATIONS, 3, false),
            new TopicSpec(CONVERSATIONS_REJECTED, 1, false),
            new TopicSpec(RECIPES, 1, true),
            new TopicSpec(EXAMPLES, 3, false),
            new TopicSpec(BATCHES, 1, false),
            new TopicSpec(EVAL_EXAMPLES, 3, false),
            new TopicSpec(CHECKPOINTS, 1, false),
            new TopicSpec(EVALUATIONS, 1, false));

    /** Kafka record headers the platform reads. */
    public static final class Headers {
        /** On {@code conversations-raw}: the dataset the record belongs to. */
        public static final String DATASET = "dataset";
        /** On {@code conversations-raw}: force an input format instead of detecting it. */
        public static final String FORMAT = "format";

        private Headers() {}
    }

    private Topics() {}
}
