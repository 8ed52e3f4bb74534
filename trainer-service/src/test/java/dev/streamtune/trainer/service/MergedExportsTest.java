package dev.streamtune.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.ConfinedPath;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where a merged export is written: beside its checkpoint, or in the run's folder under output_dir, never outside. */
class MergedExportsTest {

    @TempDir
    Path scratch;

    @Test
    void anExportGoesBesideItsCheckpointOrUnderOutputDir() throws Exception {
        Path root = Files.createDirectories(scratch.resolve("checkpoints"));
        ConfinedPath confined = new ConfinedPath(root, "checkpoint root");
        Path checkpoint = root.resolve("recipe/run-1/checkpoint-6");

        assertThat(MergedExports.target(confined, null, checkpoint, "run-1", 6))
                .isEqualTo(root.resolve("recipe/run-1/export-6-merged"));
        assertThat(MergedExports.target(confined, root.resolve("outputs/lora"), checkpoint, "run-1", 6))
                .isEqualTo(root.toAbsolutePath().resolve("outputs/lora/run-1/export-6-merged"));
    }

    /** output_dir was under the root when the recipe was planned; a link put in its way since is refused. */
    @Test
    void anOutputDirTurnedIntoALinkOutOfTheRootIsRefusedNamingTheKey() throws Exception {
        Path root = Files.createDirectories(scratch.resolve("checkpoints"));
        Path outside = Files.createDirectories(scratch.resolve("outside"));
        Files.createSymbolicLink(root.resolve("outputs"), outside);
        ConfinedPath confined = new ConfinedPath(root, "checkpoint root");

        assertThatThrownBy(() -> MergedExports.target(
                        confined, root.resolve("outputs"), root.resolve("r/run/checkpoint-2"), "run", 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("training_config.output_dir: '" + root.resolve("outputs") + "' leads outside"
                        + " the checkpoint root");
        assertThat(Files.list(outside)).isEmpty();
    }
}
