package dev.streamtune.format.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.events.Split;
import dev.streamtune.format.template.ChatMlTemplate;
import dev.streamtune.format.template.TemplateException;
import dev.streamtune.format.testing.Spans;
import java.util.List;
import org.junit.jupiter.api.Test;

/** OpenAI's per-turn {@code weight}: a turn of weight 0 is rendered as context and never trained. */
class ExampleRendererTest {

    private static final Message UNTRAINED = new Message(Role.ASSISTANT, "Hullo?", 0);

    @Test
    void anAssistantTurnOfWeightZeroIsRenderedButNotTrained() {
        FormattedExample example = render(
                TrainOn.ASSISTANT, Message.user("Hi"), UNTRAINED, Message.user("Again"), Message.assistant("Hello!"));

        assertThat(example.text()).isEqualTo("""
                <|im_start|>user
                Hi<|im_end|>
                <|im_start|>assistant
                Hullo?<|im_end|>
                <|im_start|>user
                Again<|im_end|>
                <|im_start|>assistant
                Hello!<|im_end|>
                """);
        assertThat(Spans.of(example, true)).containsExactly("Hello!<|im_end|>");
    }

    @Test
    void aTurnOfWeightZeroStaysUntrainedWhenTheRecipeTrainsEverything() {
        FormattedExample example =
                render(TrainOn.ALL, Message.user("Hi"), UNTRAINED, Message.user("Again"), Message.assistant("Hello!"));

        assertThat(Spans.of(example, false)).containsExactly("Hullo?<|im_end|>");
    }

    @Test
    void aConversationWhoseTrainedTurnsAllHaveWeightZeroHasNothingToTrainOn() {
        assertThatThrownBy(() -> render(TrainOn.ASSISTANT, Message.user("Hi"), UNTRAINED))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("weight 0");
        assertThatThrownBy(() -> render(
                        TrainOn.LAST_ASSISTANT,
                        Message.user("Hi"),
                        Message.assistant("Hello!"),
                        Message.user("Again"),
                        UNTRAINED))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("weight 0");
    }

    private static FormattedExample render(TrainOn trainOn, Message... messages) {
        Conversation conversation = new Conversation(
                Conversation.SCHEMA_VERSION,
                "c1",
                "demo",
                null,
                Split.TRAIN,
                List.of(messages),
                null,
                "openai",
                null,
                null);
        return new ExampleRenderer("r", new ChatMlTemplate(), trainOn, SystemPrompt.NONE).render(conversation);
    }
}
