package dev.streamtune.tokenize.processor;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Split;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.FormattedExampleDeserializer;
import dev.streamtune.tokenize.batch.BatchAssembler;
import dev.streamtune.tokenize.example.ExampleTokenizer;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.example.Truncation;
import dev.streamtune.tokenize.mix.DatasetMixer;
import dev.streamtune.tokenize.pack.PackedRow;
import dev.streamtune.tokenize.pack.SequencePacker;
import dev.streamtune.streams.RecipeStreamWorker;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * Tokenizes one recipe's examples from {@code examples} (see {@link RecipeStreamWorker} for the consumer group,
 * commits and retries): validation and test examples go, unpacked, to {@code eval-examples};
 * training examples are truncated, mixed, packed and batched onto {@code batches}.
 *
 * <p>Nothing is lost or trained twice. Offsets are committed only below the oldest example still buffered (in the
 * mixer, the packer or a partial batch), after what came before has been published and acknowledged; on start, the
 * worker reads the batches it already published for the recipe, continues their sequence numbers and skips the
 * examples they hold, and drops repeats of an example it has seen (the same key).
 */
final class TokenizeWorker extends RecipeStreamWorker {

    private static final Logger LOG = Logger.getLogger(TokenizeWorker.class);
    static final String STAGE = "tokenize";
    private static final int MIX_WINDOW = 10_000;
    private static final int PACK_WINDOW = 256;

    private final TokenizePlan plan;
    private final String bootstrapServers;
    private final TokenizePublisher publisher;
    private final TokenizeMetrics metrics;
    private final Duration flushAfter;
    private final Duration publishTimeout;
    private final ExampleTokenizer tokenizer;
    private final FormattedExampleDeserializer examples = new FormattedExampleDeserializer();
    private final Counts counts = new Counts();

    // State of one consumption run, rebuilt from Kafka when the worker (re)starts.
    private Set<String> seen;
    private DatasetMixer mixer;
    private SequencePacker packer;
    private BatchAssembler assembler;
    private Map<String, Source> sources;
    private Map<Integer, TreeMap<Long, Integer>> buffered;
    private Map<Integer, Long> nextToCommit;

    private record Source(int partition, long offset) {
    }

    /** The worker's accounting since it started: read = train + eval + rejected + duplicates + skipped. */
    static final class Counts {
        final AtomicLong read = new AtomicLong();
        final AtomicLong train = new AtomicLong();
        final AtomicLong eval = new AtomicLong();
        final AtomicLong rejected = new AtomicLong();
        final AtomicLong duplicates = new AtomicLong();
        final AtomicLong skipped = new AtomicLong();
        final AtomicLong batches = new AtomicLong();
        final AtomicLong batchedExamples = new AtomicLong();
    }

    TokenizeWorker(TokenizePlan plan, String bootstrapServers, TokenizePublisher publisher, TokenizeMetrics metrics,
                   Duration flushAfter, Duration publishTimeout) {
        super(SERVICE, plan.id(), bootstrapServers, Topics.EXAMPLES);
        this.plan = plan;
        this.bootstrapServers = bootstrapServers;
        this.publisher = publisher;
        this.metrics = metrics;
        this.flushAfter = flushAfter;
        this.publishTimeout = publishTimeout;
        this.tokenizer = new ExampleTokenizer(plan.tokenizer());
    }

    static final String SERVICE = "tokenize-service";

    private long lastRecord = System.nanoTime();

    /** A stream quiet for {@code flushAfter} with examples held: send them (mixing window, open rows, partial batch). */
    @Override
    protected boolean idle() {
        if (System.nanoTime() - lastRecord > flushAfter.toNanos() && holdsExamples()) {
            flushAll();
            return true;
        }
        return false;
    }

    @Override
    protected void starting() {
        recover();
        lastRecord = System.nanoTime();
    }

    /** What the recipe's earlier batches already hold, and where their numbering stopped. */
    private void recover() {
        BatchHistory history = BatchHistory.read(bootstrapServers, plan.id());
        seen = new HashSet<>(history.exampleKeys());
        long next = history.nextSequenceNumber();
        mixer = new DatasetMixer(plan.mixWeights(), plan.mixWeights().isEmpty() ? 1 : MIX_WINDOW);
        packer = new SequencePacker(plan.maxSeqLength(), PACK_WINDOW, 0.97, 64);
        assembler = new BatchAssembler(plan.id(), plan.rowsPerBatch(), plan.maxSeqLength(), plan.packing(), plan.padId(), next);
        sources = new HashMap<>();
        buffered = new HashMap<>();
        mixInputs.clear();
        nextToCommit = new HashMap<>();
        LOG.infof("recipe %s: %d examples already in batches, next batch number %d", plan.id(), seen.size(), next);
    }

    @Override
    protected void process(ConsumerRecords<String, byte[]> records) {
        lastRecord = System.nanoTime();
        List<TrainBatch> batches = new ArrayList<>();
        List<EvalExample> evaluation = new ArrayList<>();
        List<DeadLetter> letters = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            counts.read.incrementAndGet();
            nextToCommit.merge(record.partition(), record.offset() + 1, Math::max);
            SourceRef where = SourceRef.inTopic(record.topic(), record.partition(), record.offset());
            if (record.key() != null && !record.key().startsWith(plan.id() + ":")) {
                count(TokenizeMetrics.Outcome.SKIPPED, null, counts.skipped);
                continue;
            }
            FormattedExample example;
            try {
                example = examples.deserialize(record.topic(), record.value());
            } catch (RuntimeException e) {
                letters.add(DeadLetter.of(STAGE, null, where, where.describe() + ": " + e.getMessage(), null,
                        record.value(), 4096, plan.id()));
                count(TokenizeMetrics.Outcome.REJECTED, null, counts.rejected);
                continue;
            }
            if (example == null || !plan.id().equals(example.recipeId())) {
                count(TokenizeMetrics.Outcome.SKIPPED, null, counts.skipped);
                continue;
            }
            if (!seen.add(example.key())) {
                count(TokenizeMetrics.Outcome.DUPLICATE, example.dataset(), counts.duplicates);
                continue;
            }
            TokenizedExample tokens = tokenizer.tokenize(example);
            Truncation.Outcome outcome = plan.truncation().apply(tokens, plan.maxSeqLength());
            if (outcome instanceof Truncation.Rejected rejected) {
                letters.add(DeadLetter.of(STAGE, example.dataset(), where, "example " + example.key() + ": "
                        + rejected.reason(), "segments", null, 0, plan.id()));
                count(TokenizeMetrics.Outcome.REJECTED, example.dataset(), counts.rejected);
                continue;
            }
            List<TokenizedExample> pieces = ((Truncation.Kept) outcome).examples();
            if (example.split() != Split.TRAIN) {
                pieces.forEach(piece -> evaluation.add(new EvalExample(EvalExample.SCHEMA_VERSION, plan.id(),
                        piece.conversationId(), piece.dataset(), piece.split(), TokenIds.of(piece.ids()),
                        TokenIds.of(piece.labels()), piece.promptTokens(), piece.referenceResponse())));
                count(TokenizeMetrics.Outcome.EVAL, example.dataset(), counts.eval);
                continue;
            }
            count(TokenizeMetrics.Outcome.TRAIN, example.dataset(), counts.train);
            Source source = new Source(record.partition(), record.offset());
            sources.put(example.key(), source);
            for (TokenizedExample piece : pieces) {
                hold(source, 1);
                mixInputs.add(source);
                DatasetMixer.Mixed mixed = mixer.add(piece);
                if (mixed != null) {
                    batches.addAll(pack(mixed, false));
                }
            }
        }
        publish(batches, evaluation, letters);
    }

    /**
     * Mixed examples into the packer, packed rows into batches; with {@code flush}, nothing stays behind. The
     * mixer's inputs held their sources; its outputs hold them now (a copy holds once more, a dropped example no
     * longer), so what stays held is exactly what is still on its way to a batch.
     */
    private List<TrainBatch> pack(DatasetMixer.Mixed mixed, boolean flush) {
        for (TokenizedExample example : mixed.examples()) {
            hold(sources.get(baseKey(example.key())), 1);
        }
        mixInputs.forEach(source -> hold(source, -1));
        mixInputs.clear();
        Map<String, Long> perDataset = new TreeMap<>();
        mixed.examples().forEach(example -> perDataset.merge(example.dataset(), 1L, Long::sum));
        perDataset.forEach((dataset, n) -> metrics.mixed(plan.id(), dataset, n));
        mixed.copies().forEach((dataset, n) -> metrics.count(plan.id(), TokenizeMetrics.Outcome.MIX_COPY, dataset, n));
        mixed.dropped().forEach((dataset, n) -> metrics.count(plan.id(), TokenizeMetrics.Outcome.MIX_DROPPED, dataset, n));
        List<PackedRow> rows = new ArrayList<>();
        for (TokenizedExample example : mixed.examples()) {
            if (plan.packing()) {
                rows.addAll(packer.add(example));
            } else {
                rows.add(PackedRow.of(example, plan.maxSeqLength()));
            }
        }
        if (flush && plan.packing()) {
            rows.addAll(packer.flush());
        }
        List<TrainBatch> batches = new ArrayList<>(assembler.add(rows, offsetsOf(rows)));
        if (flush) {
            batches.addAll(assembler.flush(Map.of()));
        }
        return batches;
    }

    private final List<Source> mixInputs = new ArrayList<>();

    private void flushAll() {
        publish(pack(mixer.flush(), true), List.of(), List.of());
    }

    private boolean holdsExamples() {
        return mixer.buffered() > 0 || packer.pendingExamples() > 0 || assembler.pendingRows() > 0;
    }

    private void publish(List<TrainBatch> batches, List<EvalExample> evaluation, List<DeadLetter> letters) {
        publisher.publish(batches, evaluation, letters, publishTimeout);
        for (TrainBatch batch : batches) {
            for (String key : batch.exampleKeys()) {
                hold(sources.get(baseKey(key)), -1);
            }
            counts.batches.incrementAndGet();
            counts.batchedExamples.addAndGet(batch.exampleKeys().size());
            long padded = (long) batch.sequences().size() * batch.sequenceLength() - batch.totalTokens();
            metrics.batch(plan.id(), batch.trainableTokens(), batch.totalTokens(), padded);
        }
    }

    /** Adds {@code delta} holds on a source offset (a piece buffered somewhere, or released). */
    private void hold(Source source, int delta) {
        if (source == null || delta == 0) {
            return;
        }
        TreeMap<Long, Integer> partition = buffered.computeIfAbsent(source.partition(), p -> new TreeMap<>());
        int count = partition.merge(source.offset(), delta, Integer::sum);
        if (count <= 0) {
            partition.remove(source.offset());
        }
    }

    /** Below the oldest example still buffered on each partition; everything read where none is. */
    @Override
    protected Map<TopicPartition, OffsetAndMetadata> offsetsToCommit() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        nextToCommit.forEach((partition, next) -> {
            TreeMap<Long, Integer> held = buffered.get(partition);
            long position = held == null || held.isEmpty() ? next : held.firstKey();
            offsets.put(new TopicPartition(Topics.EXAMPLES, partition), new OffsetAndMetadata(position));
        });
        return offsets;
    }

    private Map<Integer, Long> offsetsOf(List<PackedRow> rows) {
        Map<Integer, Long> offsets = new TreeMap<>();
        for (PackedRow row : rows) {
            for (TokenizedExample document : row.documents()) {
                Source source = sources.get(baseKey(document.key()));
                if (source != null) {
                    offsets.merge(source.partition(), source.offset(), Math::max);
                }
            }
        }
        return offsets;
    }

    private void count(TokenizeMetrics.Outcome outcome, String dataset, AtomicLong counter) {
        counter.incrementAndGet();
        metrics.count(plan.id(), outcome, dataset, 1);
    }

    private static String baseKey(String key) {
        return BatchHistory.baseKey(key);
    }

    TokenizePlan plan() {
        return plan;
    }

    Counts counts() {
        return counts;
    }
}
