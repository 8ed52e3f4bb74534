package dev.streamtune.lm.runtime;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.cuda.CudaUtils;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where tensors live and in what dtypes: the device is chosen at run time, CUDA when the PyTorch build and the
 * machine have a GPU, else the CPU; {@code STREAMTUNE_DEVICE=cpu|gpu|gpu:N} overrides the choice. What a model
 * computes in there is {@link #precision(Device)}.
 */
public final class Compute {

    /**
     * Whether DJL can hold bfloat16 tensors at all. DJL 0.35.1's JNI maps dtypes through a table that ends at
     * complex64 and terminates the process on bfloat16 (creation, toType, any op given the dtype), on every device,
     * before libtorch is reached (DtypeCastTest pins this). Until a DJL release maps it, bfloat16 cannot be used.
     */
    private static final boolean DJL_HOLDS_BFLOAT16 = false;

    private static final String NO_BFLOAT16 = "DJL 0.35.1's PyTorch JNI has no bfloat16 in its dtype table and"
            + " terminates the process on it, on any device";

    static {
        // DJL reports usage to a telemetry endpoint at start-up unless told not to.
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        // Before the first tensor: a step's blocks are then reused from the heap rather than mapped anew each step.
        NativeAllocator.tune();
    }

    private Compute() {}

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
     * The type the device computes fastest in: bfloat16 on CUDA GPUs that compute in it natively (compute
     * capability 8.0 and up), float32 elsewhere. {@code STREAMTUNE_DTYPE=float32|bfloat16} overrides the choice. Not
     * necessarily what a model computes in: that is {@link #precision(Device)}.
     */
    public static DataType preferredDtype(Device device) {
        String requested = requestedDtype();
        if (requested != null) {
            return switch (requested.trim().toLowerCase(Locale.ROOT)) {
                case "float32", "fp32" -> DataType.FLOAT32;
                case "bfloat16", "bf16" -> {
                    if (!device.isGpu()) {
                        throw new IllegalStateException(
                                "STREAMTUNE_DTYPE=" + requested + " needs a CUDA device, and " + NO_BFLOAT16);
                    }
                    yield DataType.BFLOAT16;
                }
                default ->
                    throw new IllegalArgumentException(
                            "STREAMTUNE_DTYPE must be float32 or bfloat16, got " + requested);
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

    /**
     * The dtypes a model computes in on {@code device}, for the trainer to load and run a model with:
     * <pre>
     *   Precision precision = Compute.precision(device);
     *   weights.convertTo(precision);                                 // or Gpt2Model.read(folder, precision, manager)
     *   LlamaModel model = new LlamaModel(config, weights, precision, manager);
     *   CausalLmLoss.Sum sum = CausalLmLoss.sum(logits, labels, precision);
     * </pre>
     * Adapters and gates are created in {@code precision.compute()}; AdamW keeps 16-bit parameters' moments in
     * float32 by itself. It is the preferred dtype with its usual wide one ({@link Precision#of}), except for
     * bfloat16, which DJL cannot hold: then float32 when the device merely prefers it, and an
     * IllegalStateException when STREAMTUNE_DTYPE asks for it, rather than computing in something else than asked.
     */
    public static Precision precision(Device device) {
        return precision(preferredDtype(device), requestedDtype() != null);
    }

    static Precision precision(DataType preferred, boolean requested) {
        if (preferred == DataType.BFLOAT16 && !DJL_HOLDS_BFLOAT16) {
            if (requested) {
                throw new IllegalStateException("STREAMTUNE_DTYPE asks for bfloat16, but " + NO_BFLOAT16);
            }
            return Precision.FLOAT32;
        }
        return Precision.of(preferred);
    }

    /** One line for logs: device, the dtypes computed in, engine and libtorch version, CPU threads, malloc's setting. */
    public static String describe() {
        Device device = device();
        Engine engine = Engine.getInstance();
        DataType preferred = preferredDtype(device);
        String dtypes = preferred == DataType.BFLOAT16 && !DJL_HOLDS_BFLOAT16
                ? "float32 (the device prefers bfloat16, but " + NO_BFLOAT16 + ")"
                : Precision.of(preferred).toString();
        return device + " " + dtypes + ", " + engine.getEngineName() + " " + engine.getVersion() + ", "
                + Runtime.getRuntime().availableProcessors() + " CPU(s), " + NativeAllocator.tune();
    }

    private static String requestedDtype() {
        String requested = System.getenv("STREAMTUNE_DTYPE");
        return requested == null || requested.isBlank() ? null : requested;
    }

    /**
     * Below this many floating-point operations in the largest matrix multiply of a step, one CPU thread: such a
     * product takes about a millisecond or less on one core, a second thread saves little of it and every operation
     * of the step (most of them far smaller) pays the fork and join, and, on a machine whose cores are shared, waits
     * for a busy core (libgomp's workers spin, then sleep). The measurement behind the threshold is in
     * docs/PERFORMANCE.md ("Figures behind the code's choices").
     */
    static final double SMALL_PRODUCT_FLOPS = 100e6;

    /**
     * The CPU threads for a model whose largest matrix multiply in a step is {@code largestProductFlops}
     * (2 x tokens x in x out): one for small problems ({@link #SMALL_PRODUCT_FLOPS}), every core otherwise, and
     * what {@code OMP_NUM_THREADS} says whenever it is set.
     */
    public static int threadsFor(double largestProductFlops) {
        String requested = System.getenv("OMP_NUM_THREADS");
        if (requested != null && requested.trim().matches("\\d+")) {
            return Integer.parseInt(requested.trim());
        }
        return largestProductFlops < SMALL_PRODUCT_FLOPS
                ? 1
                : Runtime.getRuntime().availableProcessors();
    }

    /** The count last set by {@link #useThreadsFor} (0: libtorch's own default still applies). */
    private static final AtomicInteger THREADS = new AtomicInteger();

    /**
     * Sets libtorch's intra-op CPU threads to {@link #threadsFor} when that differs from what is set; returns the
     * count. The setting is the process's: callers whose models differ in size take turns (as training sessions do
     * on the device) and call this at the start of each turn. No effect on a GPU's work.
     */
    public static int useThreadsFor(double largestProductFlops) {
        int threads = threadsFor(largestProductFlops);
        if (THREADS.getAndSet(threads) != threads) {
            Engine.getEngine("PyTorch"); // loads libtorch, whose JNI the call needs, if nothing has yet
            JniUtils.setNumThreads(threads);
        }
        return threads;
    }

    /**
     * Runs {@code work} with PyTorch's grad mode off on this thread, then restores it: values written in place into
     * tensors marked trainable (loading saved adapters or gates) would otherwise be refused as in-place operations on
     * leaves that require grad. The mode is per thread and on in a new one, and a gradient collector leaves it on.
     */
    public static <T, E extends Exception> T withoutGradients(GradientFree<T, E> work) throws E {
        boolean was = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return work.run();
        } finally {
            JniUtils.setGradMode(was);
        }
    }

    /** Work for {@link #withoutGradients}. */
    @FunctionalInterface
    public interface GradientFree<T, E extends Exception> {
        T run() throws E;
    }

    /**
     * {@code array}, moved to {@code scope} and returned. DJL puts an operation's result on its left operand's manager:
     * computed from a weight, a moment or a gradient (a lookup, a view, a square), it would land on the model's or
     * the optimiser's long-lived manager and stay there until that is closed, once per step.
     */
    public static NDArray scoped(NDArray array, NDManager scope) {
        array.attach(scope);
        return array;
    }

    /**
     * A copy of {@code tensor} owned by {@code target}, on its device. On the same device this is {@code duplicate()}:
     * DJL's {@code toDevice(sameDevice, copy = true)} returns a view of the same storage, which may be a Java direct
     * buffer freed with the original tensor, so that the "copy" reads garbage, or crashes the JVM, after a GC.
     */
    public static NDArray copyTo(NDArray tensor, NDManager target) {
        NDArray copy = tensor.getDevice().equals(target.getDevice())
                ? tensor.duplicate()
                : tensor.toDevice(target.getDevice(), true);
        copy.attach(target);
        return copy;
    }

    /** A manager on the chosen device; close it to free every tensor it owns. */
    public static NDManager newManager() {
        return NDManager.newBaseManager(device(), "PyTorch");
    }
}
