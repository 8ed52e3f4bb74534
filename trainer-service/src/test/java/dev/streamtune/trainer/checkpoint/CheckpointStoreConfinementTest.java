package dev.streamtune.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's checkpoints are written under the checkpoint root only. The recipe id names the folder, and a recipe
 * published on the topic directly (not through the trainer's parser) may carry any id: {@code ..}, an absolute path,
 * or the name of a link in the root that points elsewhere.
 */
class CheckpointStoreConfinementTest {

    @TempDir
    Path folder;

    Path root;
    Path outside;

    @BeforeEach
    void lay() throws IOException {
        root = Files.createDirectories(folder.resolve("checkpoints"));
        outside = Files.createDirectories(folder.resolve("elsewhere"));
    }

    @Test
    void aRunFolderUnderTheRootIsWhereTheRecipeSays() {
        assertThat(new CheckpointStore(root, "recipe", "recipe-0123abcd").runFolder())
                .isEqualTo(root.resolve("recipe/recipe-0123abcd"));
    }

    @Test
    void aRecipeIdThroughDotDotIsRefused() {
        assertThatThrownBy(() -> new CheckpointStore(root, "../elsewhere", "../elsewhere-0123abcd"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("id: '../elsewhere/../elsewhere-0123abcd' leads outside the checkpoint root " + root
                        + "; only paths under it are used");
    }

    @Test
    void anAbsoluteRecipeIdIsRefused() {
        String id = outside.toString();

        assertThatThrownBy(() -> new CheckpointStore(root, id, id + "-0123abcd"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leads outside the checkpoint root " + root);
    }

    @Test
    void aRecipeFolderThatIsALinkOutOfTheRootIsRefused() throws IOException {
        Files.createSymbolicLink(root.resolve("linked"), outside);

        assertThatThrownBy(() -> new CheckpointStore(root, "linked", "linked-0123abcd"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("id: 'linked/linked-0123abcd' leads outside the checkpoint root " + root);
    }
}
