package dev.streamtune.lm.quant;

import java.util.Arrays;

/**
 * Nearest-value lookup in a code table, as {@code argmin |x - code|} decides it (bitsandbytes' reference
 * quantiser): the closest value, and among equally close ones the lowest index. A binary search over the sorted
 * distinct values finds the two neighbours of x, so each lookup is a handful of comparisons instead of one per code.
 */
final class Codebook {

    private final float[] sorted; // distinct values, ascending
    private final int[] index; // the lowest index in the table holding each of them

    Codebook(float[] code) {
        Integer[] order = new Integer[code.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // by value; -0.0 and 0.0 are one value (they are equally close to everything)
        Arrays.sort(order, (a, b) -> code[a] == code[b] ? Integer.compare(a, b) : Float.compare(code[a], code[b]));
        float[] values = new float[code.length];
        int[] indices = new int[code.length];
        int distinct = 0;
        for (int i : order) {
            if (distinct > 0 && values[distinct - 1] == code[i]) {
                continue; // a later index of a value already seen
            }
            values[distinct] = code[i];
            indices[distinct++] = i;
        }
        this.sorted = Arrays.copyOf(values, distinct);
        this.index = Arrays.copyOf(indices, distinct);
    }

    /** The table index of the value nearest to {@code x}. */
    int nearest(float x) {
        int low = 0;
        int high = sorted.length - 1;
        if (x <= sorted[low]) {
            return index[low];
        }
        if (x >= sorted[high]) {
            return index[high];
        }
        while (high - low > 1) { // invariant: sorted[low] < x < sorted[high]
            int middle = (low + high) >>> 1;
            if (sorted[middle] == x) {
                return index[middle];
            }
            if (sorted[middle] < x) {
                low = middle;
            } else {
                high = middle;
            }
        }
        float below = Math.abs(x - sorted[low]);
        float above = Math.abs(x - sorted[high]);
        if (below != above) {
            return below < above ? index[low] : index[high];
        }
        return Math.min(index[low], index[high]);
    }

    /** The table index of zero (what padding and all-zero blocks hold). */
    int zero() {
        return nearest(0f);
    }
}
