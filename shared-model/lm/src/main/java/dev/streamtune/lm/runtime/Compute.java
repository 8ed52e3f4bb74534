package dev.streamtune.lm.runtime;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
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

    /** A manager on the chosen device; close it to free every tensor it owns. */
    public static NDManager newManager() {
        return NDManager.newBaseManager(device(), "PyTorch");
    }
}
