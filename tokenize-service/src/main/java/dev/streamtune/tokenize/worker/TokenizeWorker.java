package dev.streamtune.tokenize.worker;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Split;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.FormattedExampleDeserializer;
import dev.streamtune.streams.GroupOffsets;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.streams.Outgoing;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.RecipeStreamWorker;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageCounts;
import dev.streamtune.streams.TopicReader;
import dev.streamtune.tokenize.example.ExampleTokenizer;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.example.Truncation;
import dev.streamtune.tokenize.mix.DatasetMixer;
import dev.streamtune.tokenize.recipe.RecipeSplit;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToLongFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * Tokenizes one recipe's examples from {@code examples} (the framework's {@link RecipeStreamWorker} reads them in
 * the recipe's own consumer group, publishes, commits and retries): validation and test examples go, unpacked, to
 * {@code eval-examples}; training examples are truncated and handed to the {@link TrainingFlow}, which mixes, packs
 * and batches them onto {@code batches}. An example that cannot be used is a dead letter. The recipe's
 * {@code valid_ratio} and {@code test_ratio} carve its own validation and test examples out of the training ones
 * ({@link RecipeSplit}), and its {@code train_size} bounds the training examples used ({@link TrainSize}).
 *
 * <p>Nothing is lost or trained twice, and nothing grows with the stream. The flow holds each buffered example's
 * offset on the commit watermark until the batch carrying it is acknowledged, so a crash re-reads it; each commit
 * notes ({@link BatchProgress}) from where on {@code batches} a batch can still hold an example at or past the
 * committed positions, so that a restart reads back only those batches ({@link BatchHistory}), continues their
 * numbering and leaves out exactly the example keys they hold. A repeat of a key among the last
 * {@code tokenize.dedup-horizon} ({@link RecentKeys}) is a duplicate. {@code read = train + eval + rejected +
 * duplicates + skipped + beyond_train_size}; the windows of a split example left with nothing to train are counted as
 * {@code window_dropped} besides, and the evaluation examples the recipe carved out of training ones (counted as
 * {@code eval}) once more in {@code tokenize_carved_total} by split.
 */
final class TokenizeWorker extends RecipeStreamWorker {

    private static final Logger LOG = Logger.getLogger(TokenizeWorker.class);

    static final String TRAIN = "train";
    static final String EVAL = "eval";
    static final String DUPLICATE = "duplicate";
    static final String SKIPPED = "skipped";
    static final String WINDOW_DROPPED = "window_dropped";
    static final String BEYOND_TRAIN_SIZE = "beyond_train_size";
    static final String CARVED_VALID = "carved_valid";
    static final String CARVED_TEST = "carved_test";
    static final String MIX_COPY = "mix_copy";
    static final String MIX_DROPPED = "mix_dropped";
    static final String MIXED = "mixed";
    static final String BATCHES = "batches";
    static final String BATCHED_EXAMPLES = "batched_examples";
    static final String TRAINABLE_TOKENS = "tokens_trainable";
    static final String REAL_TOKENS = "tokens_real";
    static final String PADDING_TOKENS = "tokens_padding";

    /** Past the flush moment, so that the idle check after the poll finds the stream quiet for long enough. */
    private static final Duration FLUSH_SLACK = Duration.ofMillis(1);

    private final TokenizePlan plan;
    private final TokenizeMetrics metrics;
    private final Duration flushAfter;
    private final int dedupHorizon;
    private final ExampleTokenizer tokenizer;
    private final RecipeSplit split;
    private final FormattedExampleDeserializer examples = new FormattedExampleDeserializer();

    // State of one consumption run, rebuilt from Kafka when the worker (re)starts.
    private RecentKeys seen;
    private TrainingFlow flow;
    private BatchLedger ledger;
    private TrainSize trainSize;
    /** Per partition of {@code examples}, the position the group had committed when the worker started. */
    private Map<Integer, Long> floor;

    private long lastRecord;

    TokenizeWorker(
            StageContext context, TokenizePlan plan, TokenizeMetrics metrics, Duration flushAfter, int dedupHorizon) {
        super(context, plan.id(), Topics.EXAMPLES);
        this.plan = plan;
        this.metrics = metrics;
        this.flushAfter = flushAfter;
        this.dedupHorizon = dedupHorizon;
        this.tokenizer = new ExampleTokenizer(plan.tokenizer());
        this.split = RecipeSplit.of(plan.recipe());
    }

    /**
     * What the recipe's earlier batches already hold, as far as the records read again can meet it, and where their
     * numbering stopped: read back from where the group's last commits noted ({@link BatchProgress}).
     */
    @Override
    protected void starting() {
        BatchHistory history = history();
        seen = recentKeys();
        ledger = history.ledger();
        flow = new TrainingFlow(
                plan,
                history.nextSequenceNumber(),
                history.exampleKeys(),
                new TrainingFlow.Holds() {
                    @Override
                    public void hold(InputOffset input) {
                        watermark().hold(input.partition(), input.offset());
                    }

                    @Override
                    public void release(InputOffset input) {
                        watermark().release(input.partition(), input.offset());
                    }
                },
                this::countMixing);
        lastRecord = System.nanoTime();
        LOG.infof(
                "recipe %s: %d earlier batches read back from %s (%d example keys a restart may meet again), next"
                        + " batch number %d; reading examples from %s; recipe's own split: %s; train_size: %s",
                plan.id(),
                history.batchesRead(),
                history.from(),
                history.exampleKeys().size(),
                history.nextSequenceNumber(),
                floor,
                split,
                trainSize);
    }

    /**
     * The keys of the examples just before the committed positions, up to the horizon on each partition: a repeat
     * that upstream redelivered right after its original is still recognised when a restart fell between the two.
     */
    private RecentKeys recentKeys() {
        RecentKeys keys = new RecentKeys(dedupHorizon);
        String mine = plan.id() + ":";
        new TopicReader(context().kafka())
                .forEachBetween(Topics.EXAMPLES, RecentKeys.lookBack(floor, dedupHorizon), floor, record -> {
                    if (record.key() != null && record.key().startsWith(mine)) {
                        keys.add(record.key());
                    }
                });
        return keys;
    }

    /**
     * The group's commits say where to read the recipe's batches back from. A group that committed nothing has no
     * batches yet: its beginning is committed now, with a note of where the batches topic ends, so that even a crash
     * before its first own commit finds them. A commit without a note (an earlier version's) reads them all, once.
     */
    private BatchHistory history() {
        TopicReader reader = new TopicReader(context().kafka());
        GroupOffsets group = new GroupOffsets(context().kafka());
        Map<TopicPartition, OffsetAndMetadata> committed = group.committed(groupId(), Topics.EXAMPLES);
        floor = new HashMap<>();
        committed.forEach((partition, offset) -> floor.put(partition.partition(), offset.offset()));
        Map<Integer, BatchProgress> noteOf = new HashMap<>();
        committed.forEach((partition, offset) ->
                BatchProgress.parse(offset.metadata()).ifPresent(note -> noteOf.put(partition.partition(), note)));
        trainSize = plan.trainSize() == null
                ? TrainSize.unlimited()
                : TrainSize.fromNotes(
                        plan.trainSize(), reader.endOffsets(Topics.EXAMPLES).size(), noteOf);
        if (committed.isEmpty()) {
            Map<Integer, Long> end = BatchHistory.batchesEnd(reader);
            if (group.commitBeginnings(groupId(), Topics.EXAMPLES, new BatchProgress(end, 0).note())) {
                return BatchHistory.none(end);
            }
            return BatchHistory.readAll(reader, plan.id());
        }
        List<BatchProgress> notes = List.copyOf(noteOf.values());
        if (notes.size() < committed.size()) {
            LOG.infof("recipe %s: commits without a progress note; reading all of its batches back once", plan.id());
            return BatchHistory.readAll(reader, plan.id());
        }
        return BatchHistory.read(reader, plan.id(), BatchProgress.earliest(notes));
    }

    @Override
    protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
        lastRecord = System.nanoTime();
        if (record.key() != null && !record.key().startsWith(plan.id() + ":")) {
            counts().count(SKIPPED, null);
            return;
        }
        FormattedExample example = examples.deserialize(record.topic(), record.value());
        if (example == null || !plan.id().equals(example.recipeId())) {
            counts().count(SKIPPED, null);
            return;
        }
        if (!seen.add(example.key())) {
            counts().count(DUPLICATE, example.dataset());
            return;
        }
        InputOffset source = InputOffset.of(record);
        TokenizedExample tokens = tokenizer.tokenize(example);
        Truncation.Outcome outcome = plan.truncation().apply(tokens, plan.maxSeqLength());
        if (outcome instanceof Truncation.Rejected rejected) {
            out.deadLetter(DeadLetter.from(context().stage(), source.source())
                    .recipe(plan.id())
                    .dataset(example.dataset())
                    .field("segments")
                    .reason("example " + example.key() + ": " + rejected.reason())
                    .build());
            counts().count(REJECTED, example.dataset());
            return;
        }
        Truncation.Kept kept = (Truncation.Kept) outcome;
        for (Truncation.DroppedWindow window : kept.dropped()) {
            // Part of an example that is used: counted beside the example's own outcome, not instead of it.
            counts().count(WINDOW_DROPPED, example.dataset());
            LOG.debugf("recipe %s: window %s dropped: %s", plan.id(), window.key(), window.reason());
        }
        List<TokenizedExample> pieces = kept.examples();
        Split exampleSplit = split.of(example.conversationId(), example.split());
        if (exampleSplit != example.split()) {
            counts().count(exampleSplit == Split.VALID ? CARVED_VALID : CARVED_TEST, example.dataset());
        }
        if (exampleSplit != Split.TRAIN) {
            for (TokenizedExample piece : pieces) {
                EvalExample eval = new EvalExample(
                        EvalExample.SCHEMA_VERSION,
                        plan.id(),
                        piece.conversationId(),
                        piece.dataset(),
                        exampleSplit,
                        TokenIds.of(piece.ids()),
                        TokenIds.of(piece.labels()),
                        piece.promptTokens(),
                        piece.referenceResponse(),
                        piece.key());
                out.send(new Outgoing(Topics.EVAL_EXAMPLES, eval.key(), eval));
            }
            counts().count(EVAL, example.dataset());
            return;
        }
        if (!trainSize.hasRoom(source.partition().partition())) {
            counts().count(BEYOND_TRAIN_SIZE, example.dataset());
            return;
        }
        // Read again after a restart with every window already in batches: a duplicate, which still passes the
        // mixer so that a copy of it that was buffered at the crash is made again.
        boolean batched = flow.allBatched(pieces);
        send(flow.add(pieces, source), out);
        trainSize.admitted(source.partition().partition(), source.offset());
        counts().count(batched ? DUPLICATE : TRAIN, example.dataset());
    }

    /**
     * A stream quiet for {@code flushAfter} with examples held: send them (mixing window, open rows, partial batch),
     * but for a mixing window that misses one of the recipe's datasets, which waits for it.
     */
    @Override
    protected void idle(Output out) {
        if (System.nanoTime() - lastRecord > flushAfter.toNanos() && flow.holdsExamples()) {
            send(flow.flush(), out);
        }
    }

    /** While examples are held, no longer than until they are due to be flushed. */
    @Override
    protected Duration pollTimeout() {
        Duration poll = super.pollTimeout();
        if (flow == null || !flow.holdsExamples()) {
            return poll;
        }
        long untilFlush = flushAfter.toNanos() - (System.nanoTime() - lastRecord);
        return Duration.ofNanos(Math.max(0, Math.min(poll.toNanos(), untilFlush + FLUSH_SLACK.toNanos())));
    }

    private void send(List<TrainingFlow.Batch> batches, Output out) {
        for (TrainingFlow.Batch batch : batches) {
            TrainBatch train = batch.batch();
            out.send(new Outgoing(Topics.BATCHES, train.recipeId(), train), batch.releases());
            counts().count(BATCHES, null);
            counts().count(BATCHED_EXAMPLES, null, train.exampleKeys().size());
            counts().count(TRAINABLE_TOKENS, null, train.trainableTokens());
            counts().count(REAL_TOKENS, null, train.totalTokens());
            counts().count(
                            PADDING_TOKENS,
                            null,
                            (long) train.sequences().size() * train.sequenceLength() - train.totalTokens());
        }
    }

    private void countMixing(DatasetMixer.Mixed mixed) {
        mixed.examples().forEach(example -> counts().count(MIXED, example.dataset()));
        mixed.copies().forEach((dataset, n) -> counts().count(MIX_COPY, dataset, n));
        mixed.dropped().forEach((dataset, n) -> counts().count(MIX_DROPPED, dataset, n));
    }

    @Override
    protected void published(Output out, Map<StageCounts.Key, Long> counted) {
        for (Output.Acknowledged placed : out.acknowledged()) {
            if (placed.record().event() instanceof TrainBatch batch) {
                ledger.placed(placed.partition(), placed.offset(), batch);
            }
        }
        counted.forEach((key, n) -> metrics.count(plan.id(), key.outcome(), key.dataset(), n));
    }

    /** Where a restart from the positions committed now reads the recipe's batches back from. */
    @Override
    protected String commitNote() {
        IntToLongFunction position = partition -> Math.max(
                floor.getOrDefault(partition, -1L),
                watermark().position(new TopicPartition(Topics.EXAMPLES, partition)));
        return ledger.progress(position).withTrained(trainSize.settle(position)).note();
    }

    TokenizePlan plan() {
        return plan;
    }
}
