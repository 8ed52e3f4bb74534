package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.RopeStyle;
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

    @Test
    void choosesOneThreadForSmallProblemsAndEveryCoreOtherwise() {
        LlamaConfig tiny = new LlamaConfig(64, 172, 2, 4, 4, 512, 32, 10000.0, 1e-5, RopeStyle.HALF, true, null);
        LlamaConfig bench = new LlamaConfig(256, 688, 4, 8, 8, 512, 256, 10000.0, 1e-5, RopeStyle.HALF, true, null);
        assertThat(tiny.largestProductFlops(8 * 32)).isEqualTo(2.0 * 256 * 64 * 512); // the head: vocab > 2 x 172
        assertThat(bench.largestProductFlops(8 * 256)).isEqualTo(2.0 * 2048 * 256 * 1376); // fused gate/up
        String requested = System.getenv("OMP_NUM_THREADS");
        if (requested == null) {
            assertThat(Compute.threadsFor(tiny.largestProductFlops(8 * 32))).isEqualTo(1);
            assertThat(Compute.threadsFor(bench.largestProductFlops(8 * 256)))
                    .isEqualTo(Runtime.getRuntime().availableProcessors());
        } else {
            assertThat(Compute.threadsFor(1)).isEqualTo(Integer.parseInt(requested.trim()));
        }
    }
}
