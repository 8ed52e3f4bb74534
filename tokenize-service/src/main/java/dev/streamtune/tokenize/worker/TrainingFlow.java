package dev.streamtune.tokenize.worker;

import dev.streamtune.events.TrainBatch;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.tokenize.batch.BatchAssembler;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.mix.DatasetMixer;
import dev.streamtune.tokenize.pack.PackedRow;
import dev.streamtune.tokenize.pack.SequencePacker;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The path of a recipe's training examples once tokenized and truncated: mixed in the recipe's proportions,
 * packed into rows, grouped into batches. It knows nothing of Kafka; it tells its {@link Holds} which input each
 * buffered example came from, so that the worker's commit position stays below everything still on its way to a
 * batch, and each batch says which holds its acknowledgement releases (one per example it carries).
 *
 * <p>After a restart the flow is told which example keys the recipe's published batches already hold (windows
 * {@code #n} and mixing copies {@code ~n} included): an example read again passes through the mixer as before, and
 * whatever of it is already in a batch is left out after mixing, so nothing is batched twice and a window or copy
 * that was still buffered at the crash is not lost.
 *
 * <p>Public so that the pipeline benchmark can run the same flow without Kafka.
 */
public final class TrainingFlow {

    static final int MIX_WINDOW = 10_000;
    /** The most training examples a mixing window holds while it waits for a dataset it misses. */
    static final int MIX_BOUND = 4 * MIX_WINDOW;

    static final int PACK_WINDOW = 256;

    /** Where the flow's holds on inputs go: the worker's commit watermark. */
    public interface Holds {
        void hold(InputOffset input);

        void release(InputOffset input);
    }

    /** A batch and the holds its acknowledgement releases. */
    public record Batch(TrainBatch batch, List<InputOffset> releases) {}

    private final TokenizePlan plan;
    private final Holds holds;
    private final Set<String> alreadyBatched;
    private final Consumer<DatasetMixer.Mixed> mixReport;
    private final DatasetMixer mixer;
    private final SequencePacker packer;
    private final BatchAssembler assembler;
    private final PendingSources sources = new PendingSources();
    private final List<InputOffset> mixInputs = new ArrayList<>();
    private final List<String> mixInputKeys = new ArrayList<>();

    /**
     * @param alreadyBatched example keys the recipe's published batches hold
     * @param mixReport      told what each mixed window did (copies, drops, realised proportions)
     */
    public TrainingFlow(
            TokenizePlan plan,
            long nextSequenceNumber,
            Set<String> alreadyBatched,
            Holds holds,
            Consumer<DatasetMixer.Mixed> mixReport) {
        this.plan = plan;
        this.holds = holds;
        this.alreadyBatched = alreadyBatched;
        this.mixReport = mixReport;
        this.mixer = plan.mixWeights().isEmpty()
                ? new DatasetMixer(Map.of(), 1)
                : new DatasetMixer(plan.mixWeights(), MIX_WINDOW, MIX_BOUND);
        this.packer = new SequencePacker(plan.maxSeqLength(), PACK_WINDOW, 0.97, 64);
        this.assembler = new BatchAssembler(
                plan.id(),
                plan.rowsPerBatch(),
                plan.maxSeqLength(),
                plan.packing(),
                plan.padId(),
                nextSequenceNumber,
                key -> sources.get(baseKey(key)));
    }

    /** Whether every one of these pieces (the windows of one example) is in a published batch already. */
    boolean allBatched(List<TokenizedExample> pieces) {
        return pieces.stream().allMatch(piece -> alreadyBatched.contains(piece.key()));
    }

    /**
     * Takes the training pieces of one example read at {@code source}; returns the batches they completed. Refuses
     * an example the mixer cannot take before anything of it is buffered.
     */
    public List<Batch> add(List<TokenizedExample> pieces, InputOffset source) {
        for (TokenizedExample piece : pieces) {
            mixer.check(piece);
        }
        List<Batch> batches = new ArrayList<>();
        for (TokenizedExample piece : pieces) {
            sources.add(piece.key(), source);
            holds.hold(source);
            mixInputs.add(source);
            mixInputKeys.add(piece.key());
            DatasetMixer.Mixed mixed = mixer.add(piece);
            if (mixed != null) {
                batches.addAll(pack(mixed, false));
            }
        }
        return batches;
    }

    /**
     * Everything buffered, out now: the mixing window, the open rows, the partial batch; except a mixing window that
     * misses one of the recipe's datasets, which keeps waiting for it (its inputs stay held).
     */
    public List<Batch> flush() {
        return pack(mixer.flush(), true);
    }

    /** Whether a {@link #flush()} would send anything: a window waiting for a dataset is not sent by one. */
    boolean holdsExamples() {
        return mixer.mixesOnFlush() || packer.pendingExamples() > 0 || assembler.pendingRows() > 0;
    }

    /**
     * Mixed examples into the packer, packed rows into batches; with {@code flush}, nothing stays behind. The
     * mixer's inputs held their sources; its outputs hold them now (a copy holds once more, a dropped example no
     * longer, one already batched before a restart not at all), so what stays held is exactly what is still on its
     * way to a batch. The outputs' holds are taken before the inputs' are given back, so the commit position never
     * passes an example in between. With no mixed window ({@code null}: the mixer waits), its inputs stay held.
     */
    private List<Batch> pack(DatasetMixer.Mixed mixed, boolean flush) {
        List<TokenizedExample> fresh = new ArrayList<>();
        if (mixed != null) {
            for (TokenizedExample example : mixed.examples()) {
                if (!alreadyBatched.contains(example.key())) {
                    holds.hold(sources.retain(baseKey(example.key())));
                    fresh.add(example);
                }
            }
            mixInputs.forEach(holds::release);
            mixInputs.clear();
            mixInputKeys.forEach(sources::done);
            mixInputKeys.clear();
            mixReport.accept(mixed);
        }
        List<PackedRow> rows = new ArrayList<>();
        for (TokenizedExample example : fresh) {
            if (plan.packing()) {
                rows.addAll(packer.add(example));
            } else {
                rows.add(PackedRow.of(example, plan.maxSeqLength()));
            }
        }
        if (flush && plan.packing()) {
            rows.addAll(packer.flush());
        }
        List<TrainBatch> batches = new ArrayList<>(assembler.add(rows));
        if (flush) {
            batches.addAll(assembler.flush());
        }
        List<Batch> out = new ArrayList<>(batches.size());
        for (TrainBatch batch : batches) {
            List<InputOffset> releases = new ArrayList<>(batch.exampleKeys().size());
            for (String key : batch.exampleKeys()) {
                InputOffset source = sources.get(baseKey(key));
                if (source != null) {
                    releases.add(source);
                }
                sources.done(baseKey(key));
            }
            out.add(new Batch(batch, releases));
        }
        return out;
    }

    /** How many examples' sources the flow keeps: those still on their way to a batch. */
    int pendingSources() {
        return sources.size();
    }

    /**
     * Where each example still on its way to a batch was read, with a count of its pieces still pending (a window
     * waiting in the mixer, each copy the mixer made, each row not yet in a batch): forgotten when the count reaches
     * zero, so that what is kept is bounded by what the flow buffers, not by the stream.
     */
    private static final class PendingSources {
        private final Map<String, InputOffset> sources = new HashMap<>();
        private final Map<String, Integer> pending = new HashMap<>();

        void add(String key, InputOffset source) {
            sources.put(key, source);
            pending.merge(key, 1, Integer::sum);
        }

        /** One more piece of {@code key} pending; answers its source. */
        InputOffset retain(String key) {
            pending.merge(key, 1, Integer::sum);
            return sources.get(key);
        }

        InputOffset get(String key) {
            return sources.get(key);
        }

        /** One piece of {@code key} is in a batch, or dropped. */
        void done(String key) {
            Integer left = pending.get(key);
            if (left == null) {
                return;
            }
            if (left <= 1) {
                pending.remove(key);
                sources.remove(key);
            } else {
                pending.put(key, left - 1);
            }
        }

        int size() {
            return sources.size();
        }
    }

    /** The example's key without the mixing copy suffix ({@code ~n}): a copy comes from where its original did. */
    static String baseKey(String key) {
        int copy = key.lastIndexOf('~');
        return copy < 0 ? key : key.substring(0, copy);
    }
}
