package dev.streamtune.tokenize.pack;

import dev.streamtune.tokenize.example.TokenizedExample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Best-fit-decreasing packing over a bounded window, for a stream: examples are buffered until {@code window} of
 * them have arrived, then placed longest first, each into the open row whose free space it fills most tightly
 * (a new row when none has room). Rows at least {@code closeFill} full are emitted; when more than
 * {@code maxOpenRows} stay open, the fullest are emitted. Memory and latency are bounded by the window and the
 * open rows; {@link #flush()} (end of stream, or the service's flush timeout) places and emits everything.
 *
 * <p>An example is placed in exactly one row and never split across rows (the truncation policy has already made
 * every example fit), so none is lost or duplicated.
 */
public final class SequencePacker {

    /** How many placements (windows) a row may stay open: four windows' wait costs little packing density. */
    static final int MAX_ROUNDS_OPEN = 4;

    private final int sequenceLength;
    private final int window;
    private final double closeFill;
    private final int maxOpenRows;
    private final List<TokenizedExample> buffered = new ArrayList<>();
    private final List<PackedRow> open = new ArrayList<>();
    /** The placement each open row was opened in. */
    private final Map<PackedRow, Long> openedIn = new IdentityHashMap<>();

    private long placements;

    public SequencePacker(int sequenceLength, int window, double closeFill, int maxOpenRows) {
        if (window < 1 || maxOpenRows < 1 || !(closeFill > 0 && closeFill <= 1)) {
            throw new IllegalArgumentException("need window >= 1, maxOpenRows >= 1 and closeFill in (0, 1]");
        }
        this.sequenceLength = sequenceLength;
        this.window = window;
        this.closeFill = closeFill;
        this.maxOpenRows = maxOpenRows;
    }

    /** Adds one example (at most {@code sequenceLength} tokens); returns the rows this completed, often none. */
    public List<PackedRow> add(TokenizedExample example) {
        if (example.length() > sequenceLength) {
            throw new IllegalArgumentException("example " + example.key() + " has " + example.length()
                    + " tokens, more than the sequence length " + sequenceLength + ": truncate it first");
        }
        buffered.add(example);
        return buffered.size() >= window ? place(false) : List.of();
    }

    /** Places what is buffered and emits every row: nothing stays behind. */
    public List<PackedRow> flush() {
        return place(true);
    }

    /** Examples and rows held, for the service's metrics. */
    public int pendingExamples() {
        return buffered.size()
                + open.stream().mapToInt(row -> row.documents().size()).sum();
    }

    private List<PackedRow> place(boolean emitAll) {
        placements++;
        buffered.sort(Comparator.comparingInt(TokenizedExample::length).reversed());
        for (TokenizedExample example : buffered) {
            PackedRow best = null;
            for (PackedRow row : open) {
                if (row.fits(example) && (best == null || row.free() < best.free())) {
                    best = row;
                }
            }
            if (best == null) {
                best = new PackedRow(sequenceLength);
                open.add(best);
                openedIn.put(best, placements);
            }
            best.add(example);
        }
        buffered.clear();
        List<PackedRow> done = new ArrayList<>();
        if (emitAll) {
            done.addAll(open);
            open.clear();
            openedIn.clear();
            return done;
        }
        open.removeIf(row -> {
            boolean out = row.used() >= closeFill * sequenceLength || placements - openedIn.get(row) >= MAX_ROUNDS_OPEN;
            if (out) {
                done.add(row);
            }
            return out;
        });
        if (open.size() > maxOpenRows) {
            open.sort(Comparator.comparingInt(PackedRow::used).reversed());
            while (open.size() > maxOpenRows) {
                done.add(open.remove(0));
            }
        }
        done.forEach(openedIn::remove);
        return done;
    }
}
