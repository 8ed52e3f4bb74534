package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.llama.RotaryRows;
import dev.streamtune.lm.runtime.Compute;
import org.junit.jupiter.api.Test;

/** The row permutation between llama2.c's rotary pairs (2i, 2i+1) and Hugging Face's (i, i + d/2), head by head. */
class RotaryRowsTest {

    @Test
    void movesEachHeadsPairsToHalvesAndBack() {
        try (NDManager manager = Compute.newManager()) {
            // two heads of four dimensions, one column per row holding the row's index
            NDArray rows = manager.arange(8f).reshape(8, 1);
            NDArray halves = RotaryRows.interleavedToHalves(rows, 2, 4, manager);
            assertThat(halves.getShape()).isEqualTo(new Shape(8, 1));
            assertThat(halves.toFloatArray()).containsExactly(0, 2, 1, 3, 4, 6, 5, 7);
            assertThat(RotaryRows.halvesToInterleaved(halves, 2, 4, manager).toFloatArray())
                    .containsExactly(rows.toFloatArray());
        }
    }

    @Test
    void permutesVectorsAndMatricesAlike() {
        try (NDManager manager = Compute.newManager()) {
            NDArray magnitude = manager.arange(12f); // a DoRA magnitude: one value per row
            NDArray loraB = manager.arange(36f).reshape(12, 3); // a LoRA B of rank 3
            NDArray vector = RotaryRows.interleavedToHalves(magnitude, 2, 6, manager);
            NDArray matrix = RotaryRows.interleavedToHalves(loraB, 2, 6, manager);
            assertThat(vector.toFloatArray()).containsExactly(0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11);
            float[] moved = matrix.toFloatArray();
            float[] vectorRows = vector.toFloatArray();
            for (int row = 0; row < 12; row++) {
                for (int column = 0; column < 3; column++) { // whole rows move, columns stay
                    assertThat(moved[3 * row + column]).isEqualTo(3 * vectorRows[row] + column);
                }
            }
            assertThat(RotaryRows.halvesToInterleaved(matrix, 2, 6, manager).toFloatArray())
                    .containsExactly(loraB.toFloatArray());
        }
    }

    @Test
    void refusesRowsThatAreNotTheHeadsDimensions() {
        try (NDManager manager = Compute.newManager()) {
            NDArray rows = manager.zeros(new Shape(10, 2));
            assertThatThrownBy(() -> RotaryRows.interleavedToHalves(rows, 2, 4, manager))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("rotary rows of 2 heads x 4 dimensions expected, got shape (10, 2)");
        }
    }
}
