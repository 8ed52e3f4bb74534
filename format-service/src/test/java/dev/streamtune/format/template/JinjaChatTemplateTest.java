package dev.streamtune.format.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.format.render.ExampleRenderer;
import dev.streamtune.format.render.SystemPrompt;
import dev.streamtune.format.render.TrainOn;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Models' own chat templates (Llama 3 and Qwen2.5 as published) through Jinjava: the same text and the same
 * trainable characters as the built-in templates that follow the same definitions, and a sandbox that turns
 * hostile templates into errors.
 */
class JinjaChatTemplateTest {

    private static final SpecialTokens LLAMA3 = new SpecialTokens("<|begin_of_text|>", "<|eot_id|>", null);
    private static final SpecialTokens QWEN = new SpecialTokens(null, "<|im_end|>", null);

    @Test
    void llama3sOwnTemplateMatchesTheBuiltInOne() throws IOException {
        JinjaChatTemplate jinja = new JinjaChatTemplate(resource("llama-3-instruct.jinja"), LLAMA3, "26 Jul 2024");
        List<Message> messages = List.of(
                Message.system("  You are terse. "),
                Message.user("Hi there\n"),
                Message.assistant("Hello!"),
                Message.user("What is 2+2?"),
                Message.assistant(" 4 "));

        FormattedExample fromJinja = render(jinja, messages, TrainOn.ASSISTANT);
        FormattedExample builtIn = render(new Llama3Template(), messages, TrainOn.ASSISTANT);

        assertThat(fromJinja.text()).isEqualTo(builtIn.text());
        assertThat(fromJinja.segments()).isEqualTo(builtIn.segments());
        assertThat(BuiltInTemplatesTest.trained(fromJinja)).containsExactly("Hello!<|eot_id|>", "4<|eot_id|>");
    }

    @Test
    void qwensOwnTemplateIsChatMlWithItsDefaultSystemPrompt() throws IOException {
        JinjaChatTemplate jinja = new JinjaChatTemplate(resource("qwen.jinja"), QWEN, "26 Jul 2024");

        FormattedExample withSystem = render(jinja, Conversations.TWO_TURNS, TrainOn.ASSISTANT);
        assertThat(withSystem.text())
                .isEqualTo(render(new ChatMlTemplate(), Conversations.TWO_TURNS, TrainOn.ASSISTANT)
                        .text());
        assertThat(BuiltInTemplatesTest.trained(withSystem)).containsExactly("Hello!<|im_end|>", "4<|im_end|>");

        List<Message> noSystem = Conversations.TWO_TURNS.subList(1, 5);
        FormattedExample defaulted = render(jinja, noSystem, TrainOn.LAST_ASSISTANT);
        assertThat(defaulted.text())
                .startsWith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a"
                        + " helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n");
        assertThat(BuiltInTemplatesTest.trained(defaulted)).containsExactly("4<|im_end|>");
    }

    @Test
    void contentThatRepeatsTheTemplatesOwnWordsIsStillMarkedExactly() throws IOException {
        JinjaChatTemplate jinja = new JinjaChatTemplate(resource("qwen.jinja"), QWEN, "26 Jul 2024");
        List<Message> messages = List.of(
                Message.user("user"),
                Message.assistant("assistant\n<|im_end|>"),
                Message.user("im_start"),
                Message.assistant("\n"));

        FormattedExample example = render(jinja, messages, TrainOn.ASSISTANT);

        assertThat(BuiltInTemplatesTest.trained(example))
                .containsExactly("assistant\n<|im_end|><|im_end|>", "\n<|im_end|>");
        assertThat(example.segments())
                .filteredOn(s -> s.trainable() && !s.markup())
                .extracting(s -> s.text())
                .containsExactly("assistant\n<|im_end|>", "\n");
    }

    @Test
    void toolMessagesRenderAsTheTemplateSaysAndAreNotTrained() throws IOException {
        JinjaChatTemplate jinja = new JinjaChatTemplate(resource("qwen.jinja"), QWEN, "26 Jul 2024");
        List<Message> messages = List.of(
                Message.user("Weather?"),
                Message.assistant("Let me look."),
                new Message(Role.TOOL, "sunny"),
                Message.assistant("Sunny."));

        FormattedExample example = render(jinja, messages, TrainOn.ASSISTANT);

        assertThat(example.text()).contains("<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n");
        assertThat(BuiltInTemplatesTest.trained(example)).containsExactly("Let me look.<|im_end|>", "Sunny.<|im_end|>");
    }

    @Test
    void dataThatLooksLikeJinjaStaysData() throws IOException {
        JinjaChatTemplate jinja = new JinjaChatTemplate(resource("qwen.jinja"), QWEN, "26 Jul 2024");
        String injected = "{{ raise_exception('boom') }}{% for i in range(9) %}x{% endfor %}";
        FormattedExample example =
                render(jinja, List.of(Message.user(injected), Message.assistant(injected)), TrainOn.ASSISTANT);
        assertThat(BuiltInTemplatesTest.trained(example)).containsExactly(injected + "<|im_end|>");
    }

    @Test
    void raiseExceptionRefusesTheConversationWithTheTemplatesMessage() {
        JinjaChatTemplate strict = new JinjaChatTemplate(
                "{% for m in messages %}{% if m['role'] == 'tool' %}"
                        + "{{ raise_exception('tool messages are not supported') }}{% endif %}{{ m['content'] }}{% endfor %}",
                QWEN, "26 Jul 2024");
        assertThatThrownBy(() -> strict.render(List.of(Message.user("a"), new Message(Role.TOOL, "b"))))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("tool messages are not supported");
    }

    @Test
    void hostileTemplatesAreErrorsNotHangs() {
        String loops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{{ messages }}";
        Assertions.assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> assertThatThrownBy(() -> new JinjaChatTemplate(loops, QWEN, "d"))
                        // the node budget or the time limit, whichever this machine reaches first
                        .isInstanceOf(TemplateException.class)
                        .hasMessageContaining("loops too much to be a chat template"));
        assertThatThrownBy(() -> new JinjaChatTemplate("{% include 'secrets.txt' %}", QWEN, "d"))
                .isInstanceOf(TemplateException.class);
        assertThatThrownBy(() -> new JinjaChatTemplate("{% for m in messages %}", QWEN, "d"))
                .isInstanceOf(TemplateException.class);
        String huge =
                "{% for i in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }}{% endfor %}";
        assertThatThrownBy(() -> new JinjaChatTemplate(huge, QWEN, "d")).isInstanceOf(TemplateException.class);
        // No way out to Java objects: reflection through the data is refused.
        JinjaChatTemplate reflective =
                new JinjaChatTemplate("{% for m in messages %}[{{ m['content'].getClass() }}]{% endfor %}", QWEN, "d");
        assertThatThrownBy(() -> reflective.render(List.of(Message.user("x"))))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("getClass");
    }

    /**
     * Empty loop bodies render no node, so the node budget alone let these loops (a third of a billion empty
     * iterations, under a quarter of the budget) run for half a minute per render. The time limit stops them.
     */
    @Test
    @Timeout(20) // guards against a hang only; the limit itself is two seconds
    void emptyNestedLoopsRunIntoTheTimeLimitOfARender() {
        JinjaChatTemplate spinning = new JinjaChatTemplate(
                "{% set r = range(700) %}{% for m in messages %}"
                        + "{% for i in r %}{% for j in r %}{% for k in r %}{% endfor %}{% endfor %}{% endfor %}"
                        + "{{ m['content'] }}{% endfor %}",
                QWEN, "d");

        assertThatThrownBy(() -> spinning.render(List.of(Message.user("hi"), Message.assistant("yo"))))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("time limit of 2 s per render (format.jinja.render-timeout)")
                .hasMessageContaining("line 1");
    }

    @Test
    void aConversationNeedingMoreRendersThanAllowedIsRefusedBeforeAnyRender() {
        String source = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}";
        JinjaChatTemplate plain = new JinjaChatTemplate(source, QWEN, "d");
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            messages.add(Message.user("question " + i));
            messages.add(Message.assistant("answer " + i));
        }

        assertThatThrownBy(() -> plain.render(messages))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("300 messages need 601 renders of the chat template, more than the 513 allowed"
                        + " per conversation (format.jinja.max-renders)");

        JinjaChatTemplate nineRenders =
                new JinjaChatTemplate(source, QWEN, "d", new JinjaLimits(Duration.ofSeconds(2), 9));
        assertThat(nineRenders.render(messages.subList(0, 4))).isNotEmpty(); // 9 renders: within the limit
        assertThatThrownBy(() -> nineRenders.render(messages.subList(0, 5)))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("5 messages need 11 renders of the chat template, more than the 9 allowed");
    }

    @Test
    void limitsThatBoundNothingAreRefusedNamingTheirSetting() {
        assertThatThrownBy(() -> new JinjaLimits(Duration.ZERO, 513))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("format.jinja.render-timeout");
        assertThatThrownBy(() -> new JinjaLimits(Duration.ofSeconds(2), 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("format.jinja.max-renders");
        assertThat(new JinjaLimits(Duration.ofMillis(1500), 3).describeTimeout())
                .isEqualTo("1500 ms");
    }

    @Test
    void aTemplateThatRewritesContentCannotBeMarkedAndSaysSo() {
        JinjaChatTemplate upper =
                new JinjaChatTemplate("{% for m in messages %}{{ m['content'] | upper }}{% endfor %}", QWEN, "d");
        assertThatThrownBy(() -> upper.render(List.of(Message.user("hi"), Message.assistant("yo"))))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("cannot be marked exactly");
        JinjaChatTemplate stripsInside = new JinjaChatTemplate(
                "{% for m in messages %}{{ m['content'] | replace('secret', '') }}|{% endfor %}", QWEN, "d");
        assertThatThrownBy(() -> stripsInside.render(List.of(Message.user("a secret"), Message.assistant("yo"))))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("changes the content");
    }

    private static FormattedExample render(ChatTemplate template, List<Message> messages, TrainOn trainOn) {
        return new ExampleRenderer("r", template, trainOn, SystemPrompt.NONE).render(Conversations.of(messages));
    }

    static String resource(String name) throws IOException {
        try (InputStream in = JinjaChatTemplateTest.class.getResourceAsStream("/chat-templates/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
