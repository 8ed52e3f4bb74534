package dev.streamtune.tokenize.pack;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.TokenIds;
import dev.streamtune.tokenize.example.TokenizedExample;
import java.util.ArrayList;
import java.util.List;

/**
 * The examples packed end to end into one row of a batch. As a {@link PackedSequence} it carries the document
 * starts and per-document positions the trainer's block-diagonal mask needs, and the first token of every
 * document is never a target, so no document is trained to follow another.
 */
public final class PackedRow {

    private final int capacity;
    private final List<TokenizedExample> documents = new ArrayList<>();
    private int used;

    PackedRow(int capacity) {
        this.capacity = capacity;
    }

    /** A row holding one example: the unpacked layout. */
    public static PackedRow of(TokenizedExample example, int capacity) {
        PackedRow row = new PackedRow(capacity);
        row.add(example);
        return row;
    }

    boolean fits(TokenizedExample example) {
        return used + example.length() <= capacity;
    }

    void add(TokenizedExample example) {
        if (!fits(example)) {
            throw new IllegalArgumentException(
                    example.length() + " tokens do not fit in the " + (capacity - used) + " left");
        }
        documents.add(example);
        used += example.length();
    }

    public int used() {
        return used;
    }

    public int free() {
        return capacity - used;
    }

    public List<TokenizedExample> documents() {
        return List.copyOf(documents);
    }

    /** The row padded to {@code length} with {@code padId} (padding never trained). */
    public PackedSequence toSequence(int length, int padId) {
        if (length < used) {
            throw new IllegalArgumentException("a row of " + used + " tokens cannot be padded to " + length);
        }
        int[] ids = new int[length];
        int[] labels = new int[length];
        int[] positions = new int[length];
        List<Integer> starts = new ArrayList<>();
        int at = 0;
        int trainable = 0;
        for (TokenizedExample document : documents) {
            starts.add(at);
            for (int i = 0; i < document.length(); i++) {
                ids[at + i] = document.ids()[i];
                labels[at + i] = i == 0 ? PackedSequence.IGNORE_INDEX : document.labels()[i];
                positions[at + i] = i;
                if (labels[at + i] != PackedSequence.IGNORE_INDEX) {
                    trainable++;
                }
            }
            at += document.length();
        }
        for (int i = at; i < length; i++) {
            ids[i] = padId;
            labels[i] = PackedSequence.IGNORE_INDEX;
            positions[i] = i - (starts.isEmpty() ? 0 : starts.get(starts.size() - 1));
        }
        return new PackedSequence(TokenIds.of(ids), TokenIds.of(labels), TokenIds.of(positions), starts, at, trainable);
    }
}
