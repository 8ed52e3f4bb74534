package dev.streamtune.lm.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

/** Which dtypes pair up, and what a device's preference turns into while DJL cannot hold bfloat16. */
class PrecisionTest {

    @Test
    void sixteenBitTypesWidenToFloat32AndOthersStayThemselves() {
        assertThat(Precision.of(DataType.BFLOAT16)).isEqualTo(new Precision(DataType.BFLOAT16, DataType.FLOAT32));
        assertThat(Precision.of(DataType.FLOAT16).wide()).isEqualTo(DataType.FLOAT32);
        assertThat(Precision.of(DataType.FLOAT32)).isEqualTo(Precision.FLOAT32);
        assertThat(Precision.of(DataType.FLOAT64).mixed()).isFalse();
        assertThat(Precision.of(DataType.BFLOAT16).mixed()).isTrue();
        assertThat(Precision.of(DataType.BFLOAT16))
                .hasToString("bfloat16 (float32 norms, softmax, loss and optimiser state)");
        assertThat(Precision.FLOAT32).hasToString("float32");
    }

    @Test
    void rejectsAWideDtypeNarrowerThanTheComputeOneOrNotFloating() {
        assertThatThrownBy(() -> new Precision(DataType.FLOAT64, DataType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Precision(DataType.INT32, DataType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bfloat16FallsBackToFloat32WhenPreferredAndIsRefusedWhenAskedFor() {
        assertThat(Compute.precision(DataType.BFLOAT16, false)).isEqualTo(Precision.FLOAT32);
        assertThatThrownBy(() -> Compute.precision(DataType.BFLOAT16, true))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no bfloat16 in its dtype table");
        assertThat(Compute.precision(DataType.FLOAT32, true)).isEqualTo(Precision.FLOAT32);
        if (System.getenv("STREAMTUNE_DTYPE") == null) {
            assertThat(Compute.precision(Device.cpu())).isEqualTo(Precision.FLOAT32);
        }
    }
}
