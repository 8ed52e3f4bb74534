package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.DeadLetter;
import java.util.ArrayList;
import java.util.List;

/**
 * Records processed, published and recorded together: the candidates waiting for deduplication and their splits,
 * the dead letters, and the counts of every record decided so far.
 */
final class Chunk {

    private final List<Candidate> candidates = new ArrayList<>();
    private final List<DeadLetter> letters = new ArrayList<>();
    private final Tally tally;

    Chunk(int receiptRejections) {
        this.tally = new Tally(receiptRejections);
    }

    void add(Candidate candidate) {
        candidates.add(candidate);
    }

    void reject(DeadLetter letter) {
        letters.add(letter);
        tally.rejected(new IngestReceipt.Rejection(letter.source().describe(), letter.field(), letter.reason()));
    }

    /** Whether it holds as many candidates or dead letters as a chunk takes. */
    boolean full(int chunkSize) {
        return candidates.size() >= chunkSize || letters.size() >= chunkSize;
    }

    boolean isEmpty() {
        return candidates.isEmpty() && letters.isEmpty() && tally.isEmpty();
    }

    List<Candidate> candidates() {
        return candidates;
    }

    List<DeadLetter> letters() {
        return letters;
    }

    Tally tally() {
        return tally;
    }
}
