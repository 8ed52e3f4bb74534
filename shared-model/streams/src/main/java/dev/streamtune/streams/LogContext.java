package dev.streamtune.streams;

/**
 * The keys of the logging context (JBoss Logging's MDC) that the stages' threads log under. The services' console
 * format prints them ({@code %X} in {@code quarkus.log.console.format}), so every line a worker logs says which
 * recipe, which training run, or which of ingest-service's doors it was written for.
 */
public final class LogContext {

    /** The recipe a worker's thread works for; set by {@link RecipeStreamWorker}. */
    public static final String RECIPE = "recipe";

    /** The training run a trainer's worker thread trains. */
    public static final String RUN = "run";

    /**
     * The door of ingest-service a thread takes records in by, named as the ingest metrics' {@code door} tag names
     * it ({@code topic}: the {@code conversations-raw} door's worker).
     */
    public static final String DOOR = "door";

    private LogContext() {}
}
