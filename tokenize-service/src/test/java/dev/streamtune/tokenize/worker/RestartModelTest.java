package dev.streamtune.tokenize.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.streamtune.events.Split;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.lm.tokenizer.TiktokenTokenizer;
import dev.streamtune.streams.CommitWatermark;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.example.Truncation;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.IntToLongFunction;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * A recipe's tokenize worker over a stream that crashes at random moments (before its output is published, between
 * publishing and committing, after committing), played against an in-memory {@code batches} log and consumer group
 * that keep exactly what Kafka would: the published batches, and per partition the last committed position with the
 * note it carried. Each restart reads back only the batches its group's notes point to, and remembers the keys just
 * before its committed positions.
 *
 * <p>Whatever the crashes: every training window is batched exactly once (redeliveries of an example included),
 * and with a train_size exactly those of the first training examples of each partition within its share of it,
 * batch numbers run without gap or repeat, and what a restart reads back starts at the first batch that still holds
 * an example at or past the committed positions, so it is bounded by what the worker had buffered, not by the stream.
 */
class RestartModelTest {

    private static final String RECIPE = "r";
    private static final String EXAMPLES = "examples";
    private static final int MAX_SEQ = 8;
    private static final int HORIZON = 50;

    @Test
    void everyWindowIsBatchedExactlyOnceAndARestartReadsBackOnlyWhatItCanMeetAgain() {
        qt().withExamples(Integer.getInteger("streamtune.restart.examples", 300))
                .withShrinkCycles(Integer.getInteger("streamtune.restart.shrinks", 30))
                .forAll(longs().all(), integers().between(1, 160))
                .checkAssert(this::play);
    }

    /** One record of {@code examples}: an example's pieces (its windows), read at a partition and offset. */
    private record Example(int partition, long offset, String key, List<TokenizedExample> pieces) {}

    /** What Kafka keeps across a crash: the batches log and the group's commits. */
    private static final class Broker {
        final List<TrainBatch> batches = new ArrayList<>();
        final Map<Integer, OffsetAndMetadata> committed = new HashMap<>();
        /** Per partition, the index of the commit that last moved it. */
        final Map<Integer, Integer> lastCommit = new HashMap<>();
        /** Per commit, the batches log's size then. */
        final List<Integer> batchesAtCommit = new ArrayList<>();
    }

    private void play(long seed, int size) {
        Random random = new Random(seed);
        int partitions = 1 + random.nextInt(3);
        TokenizePlan plan = plan(random.nextBoolean(), 1 + random.nextInt(3));
        List<Example> stream = stream(random, size, partitions);
        long trainSize = random.nextBoolean() ? -1 : random.nextInt(size + 1);
        Set<String> expected = expected(stream, new TrainSize(trainSize, partitions, Map.of()));

        Broker broker = new Broker();
        int crashes = 0;
        while (!new Run(plan, stream, partitions, trainSize, broker, random, crashes < 12 ? 0.08 : 0).play()) {
            crashes++;
        }

        List<String> batched = broker.batches.stream()
                .flatMap(batch -> batch.exampleKeys().stream())
                .toList();
        assertThat(batched).doesNotHaveDuplicates();
        assertThat(new HashSet<>(batched)).isEqualTo(expected);
        assertThat(broker.batches)
                .extracting(TrainBatch::sequenceNumber)
                .containsExactlyElementsOf(
                        LongStream.range(0, broker.batches.size()).boxed().toList());
    }

    /**
     * The windows an uninterrupted run batches: of every example, read once (a redelivery is a repeat), while its
     * partition's share of the train_size (-1: none) lasts, in offset order.
     */
    private static Set<String> expected(List<Example> stream, TrainSize trainSize) {
        Set<String> keys = new HashSet<>();
        Set<String> read = new HashSet<>();
        for (Example example : stream) {
            if (read.add(example.key()) && trainSize.hasRoom(example.partition())) {
                trainSize.admitted(example.partition(), example.offset());
                example.pieces().forEach(piece -> keys.add(piece.key()));
            }
        }
        return keys;
    }

    /** One life of the worker: from the group's commits to the end of the stream, or to a crash (false). */
    private static final class Run {
        private final TokenizePlan plan;
        private final List<Example> stream;
        private final int partitions;
        private final long trainSizeLimit;
        private final Broker broker;
        private final Random random;
        private final double crashChance;
        private final CommitWatermark watermark = new CommitWatermark();
        private final Map<Integer, Long> floor = new HashMap<>();

        Run(
                TokenizePlan plan,
                List<Example> stream,
                int partitions,
                long trainSizeLimit,
                Broker broker,
                Random random,
                double crashChance) {
            this.plan = plan;
            this.stream = stream;
            this.partitions = partitions;
            this.trainSizeLimit = trainSizeLimit;
            this.broker = broker;
            this.random = random;
            this.crashChance = crashChance;
        }

        boolean play() {
            BatchHistory history = start();
            BatchLedger ledger = history.ledger();
            Map<Integer, BatchProgress> noteOf = new HashMap<>();
            broker.committed.forEach((partition, offset) ->
                    BatchProgress.parse(offset.metadata()).ifPresent(note -> noteOf.put(partition, note)));
            TrainSize trainSize = trainSizeLimit < 0
                    ? TrainSize.unlimited()
                    : TrainSize.fromNotes(trainSizeLimit, partitions, noteOf);
            RecentKeys seen = new RecentKeys(HORIZON);
            Map<Integer, Long> lookBack = RecentKeys.lookBack(floor, HORIZON);
            for (Example example : stream) {
                if (example.offset() >= lookBack.getOrDefault(example.partition(), Long.MAX_VALUE)
                        && example.offset() < floor.getOrDefault(example.partition(), 0L)) {
                    seen.add(example.key());
                }
            }
            TrainingFlow flow = new TrainingFlow(
                    plan,
                    history.nextSequenceNumber(),
                    history.exampleKeys(),
                    new TrainingFlow.Holds() {
                        @Override
                        public void hold(InputOffset input) {
                            watermark.hold(input.partition(), input.offset());
                        }

                        @Override
                        public void release(InputOffset input) {
                            watermark.release(input.partition(), input.offset());
                        }
                    },
                    mixed -> {});
            List<Example> toRead = stream.stream()
                    .filter(example -> example.offset() >= floor.getOrDefault(example.partition(), 0L))
                    .toList();
            int next = 0;
            while (true) {
                List<TrainingFlow.Batch> out = new ArrayList<>();
                int poll = Math.min(toRead.size() - next, random.nextInt(5));
                for (int i = 0; i < poll; i++) {
                    Example example = toRead.get(next++);
                    TopicPartition partition = new TopicPartition(EXAMPLES, example.partition());
                    watermark.read(partition, example.offset());
                    // As the worker: a repeat is dropped; an example already batched still passes the flow, which
                    // leaves out what of it its history holds.
                    // Past its partition's share of the train_size, it is counted and not batched.
                    if (seen.add(example.key()) && trainSize.hasRoom(example.partition())) {
                        out.addAll(flow.add(example.pieces(), new InputOffset(partition, example.offset())));
                        trainSize.admitted(example.partition(), example.offset());
                    }
                }
                boolean quiet = poll == 0;
                if (quiet || random.nextInt(10) == 0) {
                    out.addAll(flow.flush());
                }
                if (crash()) {
                    return false; // before publishing: the batches made are lost with the process
                }
                for (TrainingFlow.Batch batch : out) {
                    broker.batches.add(batch.batch());
                    ledger.placed(0, broker.batches.size() - 1, batch.batch());
                    batch.releases().forEach(input -> watermark.release(input.partition(), input.offset()));
                }
                if (crash()) {
                    return false; // published, not committed
                }
                Map<TopicPartition, OffsetAndMetadata> commit = watermark.committable();
                if (!commit.isEmpty()) {
                    IntToLongFunction position = p ->
                            Math.max(floor.getOrDefault(p, -1L), watermark.position(new TopicPartition(EXAMPLES, p)));
                    String note = ledger.progress(position)
                            .withTrained(trainSize.settle(position))
                            .note();
                    int index = broker.batchesAtCommit.size();
                    broker.batchesAtCommit.add(broker.batches.size());
                    commit.forEach((partition, offset) -> {
                        broker.committed.put(partition.partition(), new OffsetAndMetadata(offset.offset(), note));
                        broker.lastCommit.put(partition.partition(), index);
                    });
                }
                if (quiet && next == toRead.size() && !flow.holdsExamples()) {
                    return true;
                }
            }
        }

        /** As the worker starts: a first start commits the beginnings with a note; a later one reads its notes. */
        private BatchHistory start() {
            Map<Integer, Long> end = Map.of(0, (long) broker.batches.size());
            if (broker.committed.isEmpty()) {
                String note = new BatchProgress(end, 0).note();
                int index = broker.batchesAtCommit.size();
                broker.batchesAtCommit.add(broker.batches.size());
                stream.stream().map(Example::partition).distinct().forEach(partition -> {
                    broker.committed.put(partition, new OffsetAndMetadata(0, note));
                    broker.lastCommit.put(partition, index);
                    floor.put(partition, 0L);
                });
                return BatchHistory.none(end);
            }
            broker.committed.forEach((partition, offset) -> floor.put(partition, offset.offset()));
            List<BatchProgress> notes = broker.committed.values().stream()
                    .map(offset -> BatchProgress.parse(offset.metadata()))
                    .flatMap(Optional::stream)
                    .toList();
            assertThat(notes).hasSameSizeAs(broker.committed.values());
            BatchProgress progress = BatchProgress.earliest(notes);
            long from = progress.batchesFrom().getOrDefault(0, 0L);
            if (broker.lastCommit.values().stream().distinct().count() == 1) {
                // One commit set every position: the read starts exactly where the first batch that can be met
                // again lies, or where the log ended at that commit.
                int commit = broker.lastCommit.values().iterator().next();
                assertThat(from).isEqualTo(firstOpen(broker.batchesAtCommit.get(commit)));
            }
            BatchHistory.Reading reading =
                    new BatchHistory.Reading(plan.id(), progress.batchesFrom(), progress.nextSequenceNumber(), end);
            for (long offset = from; offset < broker.batches.size(); offset++) {
                reading.add(0, offset, broker.batches.get((int) offset));
            }
            return reading.history();
        }

        /** The first batch holding an example at or past the committed positions, or the log's end at the commit. */
        private long firstOpen(int batchesAtCommit) {
            for (int offset = 0; offset < batchesAtCommit; offset++) {
                boolean open = broker.batches.get(offset).sourceOffsets().entrySet().stream()
                        .anyMatch(source -> source.getValue() >= floor.getOrDefault(source.getKey(), 0L));
                if (open) {
                    return offset;
                }
            }
            return batchesAtCommit;
        }

        private boolean crash() {
            return random.nextDouble() < crashChance;
        }
    }

    /** Examples spread over partitions, some split into windows, some redelivered a few records after the original. */
    private static List<Example> stream(Random random, int size, int partitions) {
        List<Example> stream = new ArrayList<>();
        Map<Integer, Long> offsets = new HashMap<>();
        for (int i = 0; i < size; i++) {
            if (i > 0 && random.nextInt(10) == 0) {
                // A redelivery lands where its key does: on the original's partition.
                Example original = stream.get(Math.max(0, stream.size() - 1 - random.nextInt(5)));
                long offset = offsets.merge(original.partition(), 1L, Long::sum) - 1;
                stream.add(new Example(original.partition(), offset, original.key(), original.pieces()));
                continue;
            }
            int partition = random.nextInt(partitions);
            long offset = offsets.merge(partition, 1L, Long::sum) - 1;
            String key = RECIPE + ":e" + i;
            int length = 1 + random.nextInt(2 * MAX_SEQ);
            List<TokenizedExample> pieces = new ArrayList<>();
            int windows = (length + MAX_SEQ - 1) / MAX_SEQ;
            for (int w = 0; w < windows; w++) {
                int piece = Math.min(MAX_SEQ, length - w * MAX_SEQ);
                pieces.add(piece(windows == 1 ? key : key + "#" + w, piece));
            }
            stream.add(new Example(partition, offset, key, pieces));
        }
        return stream;
    }

    private static TokenizedExample piece(String key, int length) {
        int[] ids = new int[length];
        Arrays.fill(ids, 7);
        return new TokenizedExample(key, key, "d", Split.TRAIN, ids, ids.clone(), length, 0, null);
    }

    /** Plans by packing and rows per batch, made once: the tokenizer's vocabulary is large to load. */
    private static final Map<String, TokenizePlan> PLANS = new HashMap<>();

    private static TokenizePlan plan(boolean packing, int rowsPerBatch) {
        return PLANS.computeIfAbsent(packing + "/" + rowsPerBatch, key -> newPlan(packing, rowsPerBatch));
    }

    private static TokenizePlan newPlan(boolean packing, int rowsPerBatch) {
        var recipe = RecipeParser.parse("""
                name: restarts
                model_config:
                  tokenizer: r50k_base
                data_config:
                  format_type: chatml
                training_config:
                  finetuning_type: lora
                lora_config:
                  r: 8
                """, "restarts.yaml").recipe();
        return new TokenizePlan(
                recipe, TiktokenTokenizer.gpt2WithChatMl(), MAX_SEQ, Truncation.SPLIT, packing, Map.of(), rowsPerBatch);
    }
}
