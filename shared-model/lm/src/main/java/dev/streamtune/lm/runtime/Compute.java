package dev.streamtune.lm.runtime;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.util.cuda.CudaUtils;
import java.util.Locale;

/**
 * Where tensors live: the device is chosen at run time, CUDA when the PyTorch build and the machine have a GPU,
 * else the CPU; {@code STREAMTUNE_DEVICE=cpu|gpu|gpu:N} overrides the choice.
 */
public final class Compute {

    static {
        // DJL reports usage to a telemetry endpoint at start-up unless told not to.
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    private Compute() {
    }

    public static Device device() {
        String requested = System.getenv("STREAMTUNE_DEVICE");
        if (requested != null && !requested.isBlank()) {
            String value = requested.trim().toLowerCase(Locale.ROOT);
            if (value.equals("cpu")) {
                return Device.cpu();
            }
            if (value.startsWith("gpu")) {
                int index = value.contains(":") ? Integer.parseInt(value.substring(value.indexOf(':') + 1)) : 0;
                if (index >= Engine.getInstance().getGpuCount()) {
                    throw new IllegalStateException("STREAMTUNE_DEVICE=" + requested + " but PyTorch sees "
                            + Engine.getInstance().getGpuCount() + " GPU(s)");
                }
                return Device.gpu(index);
            }
            throw new IllegalArgumentException("STREAMTUNE_DEVICE must be cpu, gpu or gpu:N, got " + requested);
        }
        return Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    }

    /**
     * The type to train and run in on a device: bfloat16 on CUDA GPUs that compute in it natively (compute
     * capability 8.0 and up), float32 elsewhere (libtorch's CPU build aborts on bfloat16 under DJL, see DJL_NOTES).
     * {@code STREAMTUNE_DTYPE=float32|bfloat16} overrides the choice.
     */
    public static DataType preferredDtype(Device device) {
        String requested = System.getenv("STREAMTUNE_DTYPE");
        if (requested != null && !requested.isBlank()) {
            return switch (requested.trim().toLowerCase(Locale.ROOT)) {
                case "float32", "fp32" -> DataType.FLOAT32;
                case "bfloat16", "bf16" -> {
                    if (!device.isGpu()) {
                        throw new IllegalStateException("STREAMTUNE_DTYPE=" + requested + " needs a CUDA device;"
                                + " bfloat16 aborts libtorch's CPU path under DJL");
                    }
                    yield DataType.BFLOAT16;
                }
                default -> throw new IllegalArgumentException("STREAMTUNE_DTYPE must be float32 or bfloat16, got " + requested);
            };
        }
        if (device.isGpu()) {
            String capability = CudaUtils.getComputeCapability(device.getDeviceId());
            if (capability != null && Integer.parseInt(capability.replaceAll("\\D", "")) >= 80) {
                return DataType.BFLOAT16;
            }
        }
        return DataType.FLOAT32;
    }

    /** One line for logs: device, dtype, engine and libtorch version, CPU threads. */
    public static String describe() {
        Device device = device();
        Engine engine = Engine.getInstance();
        return device + " " + preferredDtype(device) + ", " + engine.getEngineName() + " " + engine.getVersion()
                + ", " + Runtime.getRuntime().availableProcessors() + " CPU(s)";
    }

    /** A manager on the chosen device; close it to free every tensor it owns. */
    public static NDManager newManager() {
        return NDManager.newBaseManager(device(), "PyTorch");
    }
}
