package dev.streamtune.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.CheckpointDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints appear whole or not at all, a damaged one is recognised, and retention spares the best. */
class CheckpointStoreTest {

    @TempDir
    Path root;

    private CheckpointStore store() {
        return new CheckpointStore(root, "recipe", "recipe-0123abcd");
    }

    private static Manifest manifest(long step) {
        return new Manifest(
                Manifest.VERSION,
                "recipe",
                "recipe-0123abcd",
                step,
                step * 100,
                2.5,
                "peft-lora",
                Map.of(0, step * 2),
                Map.of(0, 0L),
                null,
                step * 2 - 1,
                step * 2,
                null,
                null,
                "q8Bz7Xl6TQ2nYq1yXKm3Zg",
                null,
                Instant.parse("2026-11-27T10:00:00Z"));
    }

    private Manifest write(long step) throws IOException {
        return store().write(manifest(step), folder -> {
            Files.writeString(folder.resolve("adapter_config.json"), "{\"step\": " + step + "}");
            Files.createDirectories(folder.resolve("nested"));
            Files.write(folder.resolve("nested/adapter_model.safetensors"), new byte[] {1, 2, 3, (byte) step});
        });
    }

    @Test
    void aWrittenCheckpointVerifiesAndCarriesTheChecksumOfItsFiles() throws IOException {
        Manifest written = write(3);
        Path folder = root.resolve("recipe/recipe-0123abcd/checkpoint-3");
        assertThat(written.checksum()).matches("sha256:[0-9a-f]{64}").isEqualTo(CheckpointDigest.of(folder));
        assertThat(store().list()).singleElement().satisfies(found -> {
            assertThat(found.valid()).isTrue();
            assertThat(found.manifest().consumedOffsets()).isEqualTo(Map.of(0, 6L));
        });
        // nothing temporary is left beside it
        try (var names = Files.list(store().runFolder())) {
            assertThat(names.map(p -> p.getFileName().toString())).containsExactly("checkpoint-3");
        }
    }

    @Test
    void aHalfWrittenCheckpointIsNeverSeenAndIsClearedByTheNextWrite() throws IOException {
        write(2);
        // a crash while writing step 4: the temporary folder holds files but was never renamed into place
        Path torn = store().runFolder().resolve(".tmp-checkpoint-4-123");
        Files.createDirectories(torn);
        Files.writeString(torn.resolve("adapter_config.json"), "{");
        assertThat(store().list()).extracting(CheckpointStore.Found::step).containsExactly(2L);
        write(6);
        assertThat(Files.exists(torn)).isFalse();
        assertThat(store().list()).extracting(CheckpointStore.Found::step).containsExactly(6L, 2L);
    }

    @Test
    void aDamagedCheckpointIsReportedWithWhyAndTheOlderOneStaysValid() throws IOException {
        write(2);
        write(4);
        Path newest = store().runFolder().resolve("checkpoint-4/nested/adapter_model.safetensors");
        Files.write(newest, new byte[] {9, 9});
        List<CheckpointStore.Found> found = store().list();
        assertThat(found.get(0).valid()).isFalse();
        assertThat(found.get(0).problem()).contains("checkpoint-4", "checksum", "altered or is incomplete");
        assertThat(found.get(1).valid()).isTrue();

        Files.delete(store().runFolder().resolve("checkpoint-2/" + CheckpointDigest.MANIFEST));
        assertThat(store().list().get(1).problem()).contains("has no checkpoint.json");
    }

    @Test
    void retentionKeepsTheLimitTheNewestAndTheProtected() throws IOException {
        for (long step = 1; step <= 5; step++) {
            write(step);
        }
        List<Long> deleted = store().prune(2, Set.of(2L));
        assertThat(deleted).containsExactlyInAnyOrder(1L, 3L, 4L);
        assertThat(store().list()).extracting(CheckpointStore.Found::step).containsExactly(5L, 2L);
        assertThat(store().prune(3, Set.of())).isEmpty();
    }

    /**
     * Retention goes by the folders' names and a resume verifies only until the newest checkpoint that holds: the
     * SHA-256 of every retained folder (gigabytes each for full fine-tuning) is not read again at every save.
     */
    @Test
    void retentionReadsNoCheckpointAndAResumeVerifiesOnlyWhatItUses() throws IOException {
        AtomicInteger digests = new AtomicInteger();
        CheckpointStore counted = new CheckpointStore(root, "recipe", "recipe-0123abcd", folder -> {
            digests.incrementAndGet();
            return CheckpointDigest.of(folder);
        });
        for (long step = 1; step <= 4; step++) {
            counted.write(manifest(step), folder -> Files.writeString(folder.resolve("adapter_config.json"), "{}"));
        }
        assertThat(digests.get()).as("one digest per write").isEqualTo(4);
        counted.prune(1, Set.of(2L));
        assertThat(digests.get()).as("retention reads nothing").isEqualTo(4);
        Files.writeString(counted.runFolder().resolve("checkpoint-4/adapter_config.json"), "{\"damaged\": true}");
        List<CheckpointStore.Found> passedOver = new ArrayList<>();
        CheckpointStore.Found newest = counted.newestValid(passedOver::add);
        assertThat(newest.step()).isEqualTo(2);
        assertThat(passedOver).extracting(CheckpointStore.Found::step).containsExactly(4L);
        assertThat(digests.get())
                .as("the damaged newest and the one used, nothing older")
                .isEqualTo(6);
    }

    /**
     * A step written again (a run resumed from an older checkpoint trains it again) replaces the old folder by moving
     * it aside, renaming the new one in and deleting the old one; a crash between leaves only a temporary folder,
     * which the next write clears.
     */
    @Test
    void aStepWrittenAgainReplacesItsFolderWhole() throws IOException {
        write(3);
        Manifest again = store().write(
                        manifest(3),
                        folder -> Files.writeString(folder.resolve("adapter_config.json"), "{\"again\": true}"));
        Path folder = store().runFolder().resolve("checkpoint-3");
        assertThat(Files.readString(folder.resolve("adapter_config.json"))).contains("again");
        assertThat(CheckpointDigest.of(folder)).isEqualTo(again.checksum());
        try (var names = Files.list(store().runFolder())) {
            assertThat(names.map(p -> p.getFileName().toString())).containsExactly("checkpoint-3");
        }
        Path aside = store().runFolder().resolve(".tmp-replaced-checkpoint-3-1");
        Files.createDirectories(aside);
        write(4);
        assertThat(Files.exists(aside)).isFalse();
    }
}
