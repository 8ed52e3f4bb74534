package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import dev.streamtune.lm.runtime.Compute;
import org.junit.jupiter.api.Test;

/** The device and dtype choice as this machine sees it. */
class ComputeTest {

    @Test
    void choosesTheGpuWhenPyTorchSeesOneAndFloat32OnTheCpu() {
        boolean gpu = Engine.getInstance().getGpuCount() > 0;
        if (System.getenv("STREAMTUNE_DEVICE") == null) {
            assertThat(Compute.device().isGpu()).isEqualTo(gpu);
        }
        if (System.getenv("STREAMTUNE_DTYPE") == null) {
            assertThat(Compute.preferredDtype(Device.cpu())).isEqualTo(DataType.FLOAT32);
        }
        assertThat(Compute.describe()).contains("PyTorch").contains("2.7.1");
    }
}
