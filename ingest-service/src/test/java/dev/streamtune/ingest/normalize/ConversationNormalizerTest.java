package dev.streamtune.ingest.normalize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.ingest.format.RecordException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConversationNormalizerTest {

    private static final NormalizationPolicy MERGE = new NormalizationPolicy(true, NormalizationPolicy.SameRole.MERGE);

    @Test
    void consecutiveTurnsOfOneSpeakerAreMergedOrRefused() throws RecordException {
        List<Message> turns = List.of(Message.user("a"), Message.assistant("b"), Message.assistant("c"));

        assertThat(ConversationNormalizer.normalize(turns, MERGE))
                .containsExactly(Message.user("a"), Message.assistant("b\n\nc"));
        assertThatThrownBy(() -> ConversationNormalizer.normalize(turns, NormalizationPolicy.DEFAULT))
                .hasMessage("messages 2 and 3 are both assistant turns; set sameRole=merge to join them");
    }

    @Test
    void turnsOfOneSpeakerMergeOnlyWhenTheyAreTrainedAlike() throws RecordException {
        Message untrainedB = new Message(Role.ASSISTANT, "b", 0);
        Message untrainedC = new Message(Role.ASSISTANT, "c", 0);

        assertThat(ConversationNormalizer.normalize(List.of(Message.user("a"), untrainedB, untrainedC), MERGE))
                .containsExactly(Message.user("a"), new Message(Role.ASSISTANT, "b\n\nc", 0));
        assertThatThrownBy(() -> ConversationNormalizer.normalize(
                        List.of(Message.user("a"), untrainedB, Message.assistant("c")), MERGE))
                .hasMessage("messages 2 and 3 are both assistant turns but only message 2 has weight 0 (not trained"
                        + " on); one merged turn cannot be trained in part");
    }

    @Test
    void blankSystemPromptsAreDroppedAndWhitespaceInsideContentIsKept() throws RecordException {
        List<Message> normalized = ConversationNormalizer.normalize(
                List.of(Message.system("  "), Message.user("  spaced\n"), Message.assistant("\tx ")), MERGE);

        assertThat(normalized).containsExactly(Message.user("  spaced\n"), Message.assistant("\tx "));
    }

    @Test
    void aFinalUserTurnIsAllowedWhenAsked() throws RecordException {
        List<Message> turns = List.of(Message.user("q"));

        assertThat(ConversationNormalizer.normalize(
                        turns, new NormalizationPolicy(false, NormalizationPolicy.SameRole.REJECT)))
                .containsExactly(Message.user("q"));
    }

    @Test
    void theIdIsTheSha256OfTheCanonicalMessages() throws Exception {
        List<Message> messages = List.of(Message.user("hi"), Message.assistant("hello"));
        String canonical = "[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]";
        String expected = HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));

        assertThat(ConversationId.of(messages)).isEqualTo(expected);
        assertThat(ConversationId.of(List.of(Message.user("hi "), Message.assistant("hello"))))
                .isNotEqualTo(expected);
    }
}
