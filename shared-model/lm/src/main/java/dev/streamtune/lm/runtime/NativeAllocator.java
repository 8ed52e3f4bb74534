package dev.streamtune.lm.runtime;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * glibc's malloc, which libtorch allocates every CPU tensor from, kept from handing memory back to the kernel
 * between training steps.
 *
 * <p>By default glibc serves a block of 128 KiB or more by a fresh {@code mmap} and unmaps it on free, and trims the
 * free top of a heap above 128 KiB. It raises the first threshold when such a block is freed ("dynamic threshold"),
 * but not reliably in a JVM: a step's tensors are then mapped, touched page by page (each page a fault and a zeroed
 * page from the kernel) and unmapped again, every step, which made small steps markedly slower than with the
 * thresholds below or with tcmalloc preloaded (figures in docs/PERFORMANCE.md, "Figures behind the code's choices").
 *
 * <p>The thresholds govern the main arena. A tensor allocated on any other thread (a Java thread is never the
 * process's first, so every training and scoring thread) comes from one of glibc's per-thread arenas, made of
 * sub-heaps of 64 MiB; whenever the newest sub-heap falls entirely free, glibc unmaps it, whatever the trim
 * threshold, unless the previous one has less free room than the "top pad". A step of a model at the benchmark
 * config frees its activations down to that state every step, so each step mapped and faulted in a fresh sub-heap,
 * at a cost in every step (docs/PERFORMANCE.md). The top pad is therefore raised to a whole sub-heap: a thread's arena
 * keeps what its largest step needed. {@link #release()} gives free memory back when a thread stops needing it (a
 * run that finished or went quiet).
 *
 * <p>Set once per process, from Java rather than the launcher's {@code GLIBC_TUNABLES}, so that it holds however the
 * JVM was started (services, tests, benchmarks, a user's IDE). A process started with malloc settings of its own
 * ({@code GLIBC_TUNABLES} naming {@code glibc.malloc.}, or {@code MALLOC_MMAP_THRESHOLD_},
 * {@code MALLOC_TRIM_THRESHOLD_}, {@code MALLOC_TOP_PAD_}) keeps them. Elsewhere (macOS, musl, no JNA native
 * library) nothing is changed. JNA is used because Java 17 has no foreign-function API outside an incubator module.
 */
public final class NativeAllocator {

    /** Blocks below this come from the heap and are reused: glibc's largest mmap threshold on 64-bit (HEAP_MAX_SIZE / 2). */
    static final int MMAP_THRESHOLD = 32 << 20;
    /** Free memory at the top of a heap kept for the next step, up to this much per arena. */
    static final int TRIM_THRESHOLD = 256 << 20;
    /**
     * Room kept beyond each request, and what decides whether an empty sub-heap of a thread's arena is unmapped: one
     * whole sub-heap (glibc's HEAP_MAX_SIZE on 64-bit, twice the largest mmap threshold), so that none is.
     */
    static final int TOP_PAD = 64 << 20;

    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;

    private static final Logger LOG = Logger.getLogger(NativeAllocator.class);

    private static String state;
    /** glibc, once tuned here; null when the process keeps its own settings or is not on glibc. */
    private static C tuned;

    private NativeAllocator() {}

    /** The C library's allocator setting. */
    interface C extends Library {
        int mallopt(int param, int value);

        int malloc_trim(long pad);
    }

    /**
     * Applies the thresholds once and logs what the process's allocator is set to (later calls return the first
     * outcome): one line, also for {@link Compute#describe()}. Compute calls it when first used, before any tensor.
     */
    public static synchronized String tune() {
        if (state == null) {
            state = apply(System.getenv());
            LOG.infof("native allocator: %s", state);
        }
        return state;
    }

    static String apply(Map<String, String> environment) {
        String ownSettings = ownSettings(environment);
        if (ownSettings != null) {
            return "malloc as set by " + ownSettings;
        }
        try {
            if (!Platform.isLinux()) {
                return "the platform's malloc";
            }
            if (!isGlibc()) {
                return "the C library's malloc (not glibc)";
            }
            C c = Native.load("c", C.class);
            boolean mmap = c.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1;
            boolean trim = c.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1;
            boolean pad = c.mallopt(M_TOP_PAD, TOP_PAD) == 1;
            if (!mmap || !trim || !pad) {
                return "glibc malloc, settings refused (mmap threshold " + mmap + ", trim threshold " + trim
                        + ", top pad " + pad + ")";
            }
            tuned = c;
            return "glibc malloc, mmap threshold " + (MMAP_THRESHOLD >> 20) + " MiB, trim threshold "
                    + (TRIM_THRESHOLD >> 20) + " MiB, top pad " + (TOP_PAD >> 20) + " MiB";
        } catch (LinkageError | RuntimeException e) {
            // JNA's native part could not be loaded (an unusual platform, no writable temporary folder): training
            // works as before, only with glibc's defaults.
            return "glibc defaults (not tuned: " + e + ")";
        }
    }

    /**
     * Returns the free memory of every arena to the kernel ({@code malloc_trim}): for a thread that will not train or
     * score for a while, whose arena still holds its largest step. Does nothing where {@link #tune()} changed nothing.
     */
    public static void release() {
        C c;
        synchronized (NativeAllocator.class) {
            c = tuned;
        }
        if (c != null) {
            c.malloc_trim(0);
        }
    }

    /** The environment variable through which the process was given malloc settings of its own, or null. */
    static String ownSettings(Map<String, String> environment) {
        String tunables = environment.get("GLIBC_TUNABLES");
        if (tunables != null && tunables.contains("glibc.malloc.")) {
            return "GLIBC_TUNABLES";
        }
        for (String name : new String[] {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
            if (environment.containsKey(name)) {
                return name;
            }
        }
        return null;
    }

    static boolean isGlibc() {
        try {
            NativeLibrary.getInstance("c").getFunction("gnu_get_libc_version");
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }
}
