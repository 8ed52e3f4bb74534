package dev.streamtune.tokenize.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.Split;
import dev.streamtune.tokenize.example.TokenizedExample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Packing on random streams: every example in exactly one row, whole and contiguous; no row longer than the
 * sequence length; positions restart at every document; document starts are never targets; padding only at the
 * end and never trained; and rows are well filled.
 */
class SequencePackerTest {

    private static final int LENGTH = 512;
    private static final int PAD = 0;

    @Test
    void packsEveryExampleExactlyOnceWithoutCrossingDocuments() {
        Random random = new Random(11);
        SequencePacker packer = new SequencePacker(LENGTH, 64, 0.97, 32);
        Map<String, TokenizedExample> sent = new HashMap<>();
        List<PackedRow> rows = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            TokenizedExample example =
                    example("e" + i, 2 + random.nextInt(random.nextInt(8) == 0 ? LENGTH - 1 : 200), random);
            sent.put(example.key(), example);
            rows.addAll(packer.add(example));
        }
        rows.addAll(packer.flush());
        assertThat(packer.pendingExamples()).isZero();

        Map<String, Integer> seen = new HashMap<>();
        long used = 0;
        for (PackedRow row : rows) {
            PackedSequence sequence = row.toSequence(LENGTH, PAD);
            int[] ids = sequence.inputIds().toArray();
            int[] labels = sequence.labels().toArray();
            int[] positions = sequence.positionIds().toArray();
            assertThat(ids).hasSize(LENGTH);
            assertThat(sequence.length()).isLessThanOrEqualTo(LENGTH);
            int trainable = 0;
            for (int d = 0; d < row.documents().size(); d++) {
                TokenizedExample document = row.documents().get(d);
                int start = sequence.documentStarts().get(d);
                int end = d + 1 < row.documents().size()
                        ? sequence.documentStarts().get(d + 1)
                        : sequence.length();
                assertThat(end - start).isEqualTo(document.length());
                for (int i = 0; i < document.length(); i++) {
                    assertThat(ids[start + i]).isEqualTo(document.ids()[i]);
                    assertThat(positions[start + i]).isEqualTo(i);
                    int expected = i == 0 ? PackedSequence.IGNORE_INDEX : document.labels()[i];
                    assertThat(labels[start + i]).isEqualTo(expected);
                    if (expected != PackedSequence.IGNORE_INDEX) {
                        trainable++;
                    }
                }
                seen.merge(document.key(), 1, Integer::sum);
            }
            for (int i = sequence.length(); i < LENGTH; i++) {
                assertThat(ids[i]).isEqualTo(PAD);
                assertThat(labels[i]).isEqualTo(PackedSequence.IGNORE_INDEX);
            }
            assertThat(sequence.trainableTokens()).isEqualTo(trainable);
            used += sequence.length();
        }
        assertThat(seen.keySet()).isEqualTo(sent.keySet());
        assertThat(seen.values()).containsOnly(1);
        double fill = (double) used / ((long) rows.size() * LENGTH);
        assertThat(fill).as("rows are %.1f%% full", 100 * fill).isGreaterThan(0.93); // measured: see the message
    }

    @Test
    void memoryStaysBoundedByTheWindowAndTheOpenRows() {
        SequencePacker packer = new SequencePacker(LENGTH, 16, 0.99, 4);
        Random random = new Random(3);
        for (int i = 0; i < 2_000; i++) {
            packer.add(example("e" + i, 1 + random.nextInt(300), random));
            assertThat(packer.pendingExamples()).isLessThanOrEqualTo(16 + 4 * LENGTH);
        }
    }

    /**
     * A row that nothing else fits into would stay open for as long as the stream runs (best fit keeps filling the
     * others), holding its examples' offsets back from the commit: it goes out once it has waited its rounds.
     */
    @Test
    void aRowNothingFitsIntoGoesOutAfterItsRoundsInsteadOfWaitingForever() {
        int window = 4;
        SequencePacker packer = new SequencePacker(64, window, 0.97, 8);
        Random random = new Random(5);
        List<PackedRow> rows = new ArrayList<>();
        rows.addAll(packer.add(example("odd", 40, random)));
        for (int i = 1; i < window * (SequencePacker.MAX_ROUNDS_OPEN + 2); i++) {
            rows.addAll(packer.add(example("e" + i, 32, random))); // two to a full row; none fits beside "odd"
        }
        assertThat(rows)
                .flatExtracting(PackedRow::documents)
                .extracting(TokenizedExample::key)
                .contains("odd");
        assertThat(packer.pendingExamples()).isLessThan(window * SequencePacker.MAX_ROUNDS_OPEN);
    }

    @Test
    void anExampleLongerThanTheSequenceIsRefused() {
        SequencePacker packer = new SequencePacker(8, 4, 0.9, 4);
        assertThatThrownBy(() -> packer.add(example("long", 9, new Random(1))))
                .hasMessageContaining("truncate it first");
    }

    static TokenizedExample example(String key, int length, Random random) {
        int[] ids = new int[length];
        int[] labels = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = 1 + random.nextInt(50_000);
            labels[i] = i > length / 3 ? ids[i] : PackedSequence.IGNORE_INDEX;
        }
        labels[0] = PackedSequence.IGNORE_INDEX;
        int trainable = 0;
        for (int label : labels) {
            trainable += label == PackedSequence.IGNORE_INDEX ? 0 : 1;
        }
        return new TokenizedExample(key, key, "d", Split.TRAIN, ids, labels, trainable, length / 3 + 1, null);
    }
}
