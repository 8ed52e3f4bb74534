package dev.streamtune.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfinedPathTest {

    @TempDir
    Path folder;

    Path root;
    Path outside;
    ConfinedPath models;

    @BeforeEach
    void lay() throws Exception {
        root = Files.createDirectories(folder.resolve("models"));
        outside = Files.createDirectories(folder.resolve("elsewhere"));
        Files.writeString(outside.resolve("secret.json"), "{}");
        Files.createDirectories(root.resolve("tiny/sub"));
        models = new ConfinedPath(root, "model root");
    }

    @Test
    void aPathUnderTheRootIsResolvedAsNamed() {
        assertThat(models.resolve("tiny/sub/../sub", "model_config.tokenizer")).isEqualTo(root.resolve("tiny/sub"));
        assertThat(models.resolve(root.resolve("tiny").toString(), "model_config.tokenizer"))
                .isEqualTo(root.resolve("tiny"));
        assertThat(models.resolve("not-yet/there", "model_config.tokenizer")).isEqualTo(root.resolve("not-yet/there"));
    }

    @Test
    void dotDotOutOfTheRootIsRefusedNamingFieldAndRoot() {
        assertThatThrownBy(() -> models.resolve("../elsewhere/secret.json", "model_config.tokenizer"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("model_config.tokenizer: '../elsewhere/secret.json' leads outside the model root " + root
                        + "; only paths under it are used");
    }

    @Test
    void anAbsolutePathOutsideIsRefused() {
        assertThatThrownBy(() -> models.resolve(outside.resolve("secret.json").toString(), "f"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leads outside the model root " + root);
    }

    @Test
    void aLinkInsideTheRootThatPointsOutsideIsRefused() throws Exception {
        Files.createSymbolicLink(root.resolve("escape"), outside);

        assertThat(models.contains(root.resolve("escape/secret.json"))).isFalse();
        assertThat(models.contains(root.resolve("escape/missing.json"))).isFalse();
        assertThat(models.contains(root.resolve("escape"))).isFalse();
        assertThatThrownBy(() -> models.resolve("escape/secret.json", "f"))
                .hasMessageContaining("leads outside the model root");
    }

    @Test
    void aDanglingLinkOutOfTheRootIsRefusedLikeOneWhoseTargetExists() throws Exception {
        Files.createSymbolicLink(root.resolve("gone"), outside.resolve("missing"));
        Files.createSymbolicLink(root.resolve("there"), outside.resolve("secret.json"));

        String gone = messageOf("gone");
        String there = messageOf("there");

        assertThat(gone).isEqualTo(there.replace("'there'", "'gone'"));
    }

    @Test
    void theRefusalDoesNotSayWhetherTheOutsidePathExists() {
        String present = messageOf(outside.resolve("secret.json").toString());
        String absent = messageOf(outside.resolve("absent.json").toString());

        assertThat(absent).isEqualTo(present.replace("secret.json", "absent.json"));
    }

    @Test
    void linksThatStayInsideTheRootAreFollowed() throws Exception {
        Files.createSymbolicLink(root.resolve("alias"), root.resolve("tiny"));
        Files.createSymbolicLink(root.resolve("relative"), Path.of("tiny/sub"));

        assertThat(models.resolve("alias/sub", "f")).isEqualTo(root.resolve("alias/sub"));
        assertThat(models.resolve("relative", "f")).isEqualTo(root.resolve("relative"));
    }

    @Test
    void aRootThatIsItselfALinkStillHoldsItsOwnFiles() throws Exception {
        Path linked = Files.createSymbolicLink(folder.resolve("models-link"), root);
        ConfinedPath viaLink = new ConfinedPath(linked, "model root");

        assertThat(viaLink.resolve("tiny/sub", "f")).isEqualTo(linked.resolve("tiny/sub"));
        assertThatThrownBy(() -> viaLink.resolve("../elsewhere", "f")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aLoopOfLinksIsRefused() throws Exception {
        Files.createSymbolicLink(root.resolve("a"), root.resolve("b"));
        Files.createSymbolicLink(root.resolve("b"), root.resolve("a"));

        assertThat(models.contains(root.resolve("a/x"))).isFalse();
    }

    private String messageOf(String named) {
        try {
            models.resolve(named, "model_config.tokenizer");
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError(named + " was not refused");
    }
}
