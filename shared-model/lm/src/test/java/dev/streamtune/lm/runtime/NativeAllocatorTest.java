package dev.streamtune.lm.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {

    /** What the test observes the allocator through: glibc 2.33's mallinfo2 and plain malloc/free. */
    interface Glibc extends Library {
        MallInfo2.ByValue mallinfo2();

        Pointer malloc(long size);

        void free(Pointer block);
    }

    @Structure.FieldOrder({
        "arena",
        "ordblks",
        "smblks",
        "hblks",
        "hblkhd",
        "usmblks",
        "fsmblks",
        "uordblks",
        "fordblks",
        "keepcost"
    })
    public static class MallInfo2 extends Structure {
        public long arena;
        public long ordblks;
        public long smblks;
        public long hblks;
        public long hblkhd; // bytes in blocks that have a mapping of their own
        public long usmblks;
        public long fsmblks;
        public long uordblks;
        public long fordblks;
        public long keepcost;

        public static class ByValue extends MallInfo2 implements Structure.ByValue {}
    }

    @Test
    void aStepSizedBlockComesFromTheHeapOnceComputeIsUsed() {
        assumeTrue(Platform.isLinux() && hasMallinfo2(), "needs glibc 2.33 or later (mallinfo2)");
        assumeTrue(
                System.getenv("GLIBC_TUNABLES") == null
                        || !System.getenv("GLIBC_TUNABLES").contains("glibc.malloc."),
                "GLIBC_TUNABLES sets malloc here: the process keeps its own settings");
        assertThat(Compute.describe()).contains("mmap threshold 32 MiB");
        Glibc c = Native.load("c", Glibc.class);

        // 4 MiB: far above glibc's default threshold of 128 KiB, where a block gets a mapping of its own
        long mappedBefore = c.mallinfo2().hblkhd;
        Pointer block = c.malloc(4L << 20);
        long mappedWith = c.mallinfo2().hblkhd;
        c.free(block);
        // (other threads of the JVM allocate too, but not mappings of this size at this moment)
        assertThat(mappedWith - mappedBefore)
                .as("a 4 MiB block is served from the heap, not mapped")
                .isLessThan(4L << 20);

        // above the raised threshold a block is still mapped, and unmapped when freed
        Pointer large = c.malloc(64L << 20);
        long mappedLarge = c.mallinfo2().hblkhd;
        c.free(large);
        assertThat(mappedLarge - mappedBefore).isGreaterThanOrEqualTo(64L << 20);
        assertThat(mappedLarge - c.mallinfo2().hblkhd).isGreaterThanOrEqualTo(64L << 20);
    }

    @Test
    void aThreadsArenaKeepsItsEmptiedSubHeapsUntilReleased() throws InterruptedException {
        assumeTrue(Platform.isLinux() && hasMallinfo2(), "needs glibc 2.33 or later (mallinfo2)");
        assumeTrue(
                System.getenv("GLIBC_TUNABLES") == null
                        || !System.getenv("GLIBC_TUNABLES").contains("glibc.malloc."),
                "GLIBC_TUNABLES sets malloc here: the process keeps its own settings");
        assertThat(Compute.describe()).contains("top pad 64 MiB");
        Glibc c = Native.load("c", Glibc.class);
        long[] afterFree = new long[1];
        long[] afterRelease = new long[1];
        // A thread other than the process's first allocates from an arena of its own, in sub-heaps of 64 MiB: six
        // blocks of 24 MiB (under the mmap threshold) take three of them, as a step's activations do. Freed in
        // reverse, as a step frees them, each newest sub-heap falls empty in turn: glibc's default would unmap it.
        Thread step = new Thread(
                () -> {
                    Pointer[] blocks = new Pointer[6];
                    for (int i = 0; i < blocks.length; i++) {
                        blocks[i] = c.malloc(24L << 20);
                        blocks[i].setMemory(0, 24L << 20, (byte) 1); // resident, as a tensor written by a step is
                    }
                    long held = c.mallinfo2().arena;
                    for (int i = blocks.length - 1; i >= 0; i--) {
                        c.free(blocks[i]);
                    }
                    afterFree[0] = held - c.mallinfo2().arena;
                    long resident = resident();
                    NativeAllocator.release();
                    afterRelease[0] = resident - resident();
                },
                "allocating-step");
        step.start();
        step.join();
        assertThat(afterFree[0])
                .as("bytes the arena gave back when the step's blocks were freed")
                .isLessThan(24L << 20);
        assertThat(afterRelease[0]).as("resident bytes given back by release()").isGreaterThan(24L << 20);
    }

    @Test
    void aProcessGivenItsOwnMallocSettingsKeepsThem() {
        assertThat(NativeAllocator.apply(Map.of("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000")))
                .isEqualTo("malloc as set by GLIBC_TUNABLES");
        assertThat(NativeAllocator.apply(Map.of("MALLOC_MMAP_THRESHOLD_", "65536")))
                .isEqualTo("malloc as set by MALLOC_MMAP_THRESHOLD_");
        // tunables for something else than malloc do not count
        assertThat(NativeAllocator.ownSettings(Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0")))
                .isNull();
    }

    /** The process's resident set in bytes (VmRSS of /proc/self/status, in kB there). */
    private static long resident() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("VmRSS:"))
                    .mapToLong(line -> Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024)
                    .findFirst()
                    .orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean hasMallinfo2() {
        try {
            NativeLibrary.getInstance("c").getFunction("mallinfo2");
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }
}
