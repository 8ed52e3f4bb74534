package dev.streamtune.format.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.events.Segment;
import dev.streamtune.format.render.ExampleRenderer;
import dev.streamtune.format.render.SystemPrompt;
import dev.streamtune.format.render.TrainOn;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For random conversations (contents full of role words, special-token look-alikes, whitespace and non-ASCII):
 * the segments join to the rendered text; under {@code assistant} exactly each assistant turn's content and its
 * turn end are trained; and the non-markup segments are exactly the messages' contents.
 */
class SegmentPropertiesTest {

    private static final String[] WORDS = {
        "user",
        "assistant",
        "system",
        "<|im_end|>",
        "<|im_start|>",
        "<|eot_id|>",
        "</s>",
        "### Response:",
        "Human:",
        "\n",
        " ",
        "  ",
        "\n\n",
        "héllo",
        "日本語",
        "{{ x }}",
        "{% if %}",
        "2+2",
        "ok"
    };

    static Stream<Arguments> templates() throws IOException {
        UnaryOperator<String> asIs = s -> s;
        UnaryOperator<String> stripped = String::strip;
        return Stream.of(
                Arguments.of("chatml", new ChatMlTemplate(), "<|im_end|>", asIs),
                Arguments.of("llama3", new Llama3Template(), "<|eot_id|>", stripped),
                Arguments.of("chat", new HumanAssistantTemplate("</s>"), "</s>", asIs),
                Arguments.of("instruction", new InstructionTemplate("</s>"), "</s>", asIs),
                Arguments.of(
                        "jinja qwen2.5",
                        new JinjaChatTemplate(
                                JinjaChatTemplateTest.resource("qwen.jinja"),
                                new SpecialTokens(null, "<|im_end|>", null),
                                "d"),
                        "<|im_end|>",
                        asIs),
                Arguments.of(
                        "jinja llama-3",
                        new JinjaChatTemplate(
                                JinjaChatTemplateTest.resource("llama-3-instruct.jinja"),
                                new SpecialTokens("<|begin_of_text|>", "<|eot_id|>", null),
                                "d"),
                        "<|eot_id|>",
                        stripped));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("templates")
    void segmentsAreExactForRandomConversations(
            String name, ChatTemplate template, String turnEnd, UnaryOperator<String> rendersContentAs) {
        Random random = new Random(name.hashCode());
        ExampleRenderer renderer = new ExampleRenderer("r", template, TrainOn.ASSISTANT, SystemPrompt.NONE);
        for (int trial = 0; trial < 150; trial++) {
            List<Message> messages = conversation(random);
            FormattedExample example = renderer.render(Conversations.of(messages));

            StringBuilder joined = new StringBuilder();
            StringBuilder content = new StringBuilder();
            for (Segment segment : example.segments()) {
                joined.append(segment.text());
                if (!segment.markup()) {
                    content.append(segment.text());
                }
            }
            assertThat(joined.toString()).isEqualTo(example.text());

            List<String> expectedTrained = new ArrayList<>();
            StringBuilder expectedContent = new StringBuilder();
            for (Message message : messages) {
                String rendered = rendersContentAs.apply(message.content());
                expectedContent.append(rendered);
                if (message.role() == Role.ASSISTANT) {
                    expectedTrained.add(rendered + turnEnd);
                }
            }
            assertThat(BuiltInTemplatesTest.trained(example))
                    .as("trial %d: %s", trial, messages)
                    .isEqualTo(expectedTrained);
            assertThat(content.toString()).as("trial %d", trial).isEqualTo(expectedContent.toString());
        }
    }

    private static List<Message> conversation(Random random) {
        List<Message> messages = new ArrayList<>();
        if (random.nextBoolean()) {
            messages.add(Message.system(text(random)));
        }
        int pairs = 1 + random.nextInt(3);
        for (int i = 0; i < pairs; i++) {
            messages.add(Message.user(text(random)));
            messages.add(Message.assistant(text(random)));
        }
        if (random.nextInt(4) == 0) {
            messages.add(Message.user(text(random)));
        }
        return messages;
    }

    private static String text(Random random) {
        StringBuilder text = new StringBuilder();
        int words = 1 + random.nextInt(6);
        for (int i = 0; i < words; i++) {
            text.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return text.toString();
    }
}
