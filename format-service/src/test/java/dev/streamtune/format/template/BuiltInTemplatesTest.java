package dev.streamtune.format.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.events.Segment;
import dev.streamtune.format.render.ExampleRenderer;
import dev.streamtune.format.render.SystemPrompt;
import dev.streamtune.format.render.TrainOn;
import dev.streamtune.format.testing.Spans;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Golden renderings of the built-in templates, written from their published definitions. */
class BuiltInTemplatesTest {

    @Test
    void chatMl() {
        FormattedExample example = render(new ChatMlTemplate(), TrainOn.ASSISTANT);

        assertThat(example.text()).isEqualTo("""
                <|im_start|>system
                You are terse.<|im_end|>
                <|im_start|>user
                Hi there<|im_end|>
                <|im_start|>assistant
                Hello!<|im_end|>
                <|im_start|>user
                What is 2+2?<|im_end|>
                <|im_start|>assistant
                4<|im_end|>
                """);
        assertThat(trained(example)).containsExactly("Hello!<|im_end|>", "4<|im_end|>");
    }

    @Test
    void chatMlLastAssistantOnlyAndAll() {
        assertThat(trained(render(new ChatMlTemplate(), TrainOn.LAST_ASSISTANT)))
                .containsExactly("4<|im_end|>");
        FormattedExample all = render(new ChatMlTemplate(), TrainOn.ALL);
        assertThat(all.segments()).allMatch(Segment::trainable);
        assertThat(trained(all)).containsExactly(all.text());
    }

    @Test
    void llama3() {
        FormattedExample example = render(new Llama3Template(), TrainOn.ASSISTANT);

        assertThat(example.text())
                .isEqualTo("<|begin_of_text|>"
                        + "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>");
        assertThat(trained(example)).containsExactly("Hello!<|eot_id|>", "4<|eot_id|>");
    }

    @Test
    void alpacaWithAndWithoutInput() {
        ExampleRenderer renderer =
                new ExampleRenderer("r", new InstructionTemplate("</s>"), TrainOn.ASSISTANT, SystemPrompt.NONE);

        FormattedExample plain = renderer.render(Conversations.instruction("Name a colour.", null, "Blue."));
        assertThat(plain.text())
                .isEqualTo(
                        "Below is an instruction that describes a task. Write a response that"
                                + " appropriately completes the request.\n\n### Instruction:\nName a colour.\n\n### Response:\nBlue.</s>");
        assertThat(trained(plain)).containsExactly("Blue.</s>");

        FormattedExample withInput = renderer.render(Conversations.instruction("Translate.", "chat", "cat"));
        assertThat(withInput.text())
                .isEqualTo("Below is an instruction that describes a task, paired with an input that"
                        + " provides further context. Write a response that appropriately completes the request.\n\n"
                        + "### Instruction:\nTranslate.\n\n### Input:\nchat\n\n### Response:\ncat</s>");
        assertThat(trained(withInput)).containsExactly("cat</s>");
    }

    @Test
    void alpacaMarksTheEosAsMarkupAndTheResponseAsContent() {
        ExampleRenderer renderer =
                new ExampleRenderer("r", new InstructionTemplate("</s>"), TrainOn.ASSISTANT, SystemPrompt.NONE);
        List<Segment> segments = renderer.render(Conversations.instruction("Say </s>.", null, "</s>"))
                .segments();
        // The user's and the response's "</s>" are content (plain text); only the template's EOS is markup.
        assertThat(segments.stream().filter(Segment::markup).map(Segment::text).collect(Collectors.joining("|")))
                .doesNotContain("Say")
                .endsWith("</s>");
        assertThat(segments)
                .filteredOn(s -> !s.markup() && s.trainable())
                .extracting(Segment::text)
                .containsExactly("</s>");
    }

    @Test
    void humanAssistant() {
        FormattedExample example = new ExampleRenderer(
                        "r", new HumanAssistantTemplate("<|endoftext|>"), TrainOn.ASSISTANT, SystemPrompt.NONE)
                .render(Conversations.of(Conversations.TWO_TURNS));

        assertThat(example.text())
                .isEqualTo("You are terse.\n\nHuman: Hi there\nAssistant: Hello!<|endoftext|>\n"
                        + "Human: What is 2+2?\nAssistant: 4<|endoftext|>\n");
        assertThat(trained(example)).containsExactly("Hello!<|endoftext|>", "4<|endoftext|>");
    }

    @Test
    void templatesThatEndWithEosRefuseToStartWithoutIt() {
        assertThatThrownBy(() -> new InstructionTemplate(null)).hasMessageContaining("data_config.eos_token");
        assertThatThrownBy(() -> new HumanAssistantTemplate("")).hasMessageContaining("learn to stop");
    }

    @Test
    void aRoleTheTemplateLacksIsAClearError() {
        List<Message> withTool =
                List.of(Message.user("weather?"), new Message(Role.TOOL, "sunny"), Message.assistant("Sunny."));
        assertThatThrownBy(() -> new HumanAssistantTemplate("</s>").render(withTool))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("message 1 has role tool");
        assertThatThrownBy(() -> new InstructionTemplate("</s>").render(withTool))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("message 1 has role tool");
    }

    @Test
    void systemPromptPolicies() {
        List<Message> noSystem = Conversations.TWO_TURNS.subList(1, 5);
        ChatMlTemplate chatMl = new ChatMlTemplate();
        String withDefault = new ExampleRenderer(
                        "r", chatMl, TrainOn.ASSISTANT, new SystemPrompt(SystemPrompt.Mode.DEFAULT, "Be kind."))
                .render(Conversations.of(noSystem))
                .text();
        assertThat(withDefault).startsWith("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi there");
        String own = new ExampleRenderer(
                        "r", chatMl, TrainOn.ASSISTANT, new SystemPrompt(SystemPrompt.Mode.DEFAULT, "Be kind."))
                .render(Conversations.of(Conversations.TWO_TURNS))
                .text();
        assertThat(own).startsWith("<|im_start|>system\nYou are terse.");
        String overridden = new ExampleRenderer(
                        "r", chatMl, TrainOn.ASSISTANT, new SystemPrompt(SystemPrompt.Mode.OVERRIDE, "Be kind."))
                .render(Conversations.of(Conversations.TWO_TURNS))
                .text();
        assertThat(overridden).startsWith("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user");
        String dropped = new ExampleRenderer(
                        "r", chatMl, TrainOn.ASSISTANT, new SystemPrompt(SystemPrompt.Mode.DROP, null))
                .render(Conversations.of(Conversations.TWO_TURNS))
                .text();
        assertThat(dropped).startsWith("<|im_start|>user\nHi there");
    }

    @Test
    void aConversationWithoutAnAssistantTurnHasNothingToTrain() {
        assertThatThrownBy(() -> new ExampleRenderer("r", new ChatMlTemplate(), TrainOn.ASSISTANT, SystemPrompt.NONE)
                        .render(Conversations.of(List.of(Message.user("hello?")))))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("no assistant turn");
    }

    private static FormattedExample render(ChatTemplate template, TrainOn trainOn) {
        return new ExampleRenderer("r", template, trainOn, SystemPrompt.NONE)
                .render(Conversations.of(Conversations.TWO_TURNS));
    }

    static List<String> trained(FormattedExample example) {
        return Spans.of(example, true);
    }
}
