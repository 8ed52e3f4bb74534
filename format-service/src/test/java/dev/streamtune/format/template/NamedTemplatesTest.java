package dev.streamtune.format.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Message;
import dev.streamtune.events.recipe.ChatTemplateNames;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.format.recipe.RecipeFormat;
import dev.streamtune.format.recipe.RecipeFormats;
import dev.streamtune.format.render.ExampleRenderer;
import dev.streamtune.format.render.SystemPrompt;
import dev.streamtune.format.render.TrainOn;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Templates by the names recipes use, against the text each model's published chat template renders (written out
 * from its tokenizer_config.json, or FastChat's definition for Vicuna) and the spans TRL's assistant masks train:
 * each assistant turn's content and its end-of-turn token.
 */
class NamedTemplatesTest {

    private static final List<Message> SINGLE_TURN = List.of(Message.user("Hi there"), Message.assistant("Hello!"));
    private static final List<Message> PROMPT = List.of(Message.system("You are terse."), Message.user("Hi there"));

    @Test
    void qwenIsChatMlWithQwen25sDefaultSystemPrompt() {
        String turns = "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n";
        assertRenders(
                "qwen",
                "<|im_start|>system\nYou are terse.<|im_end|>\n" + turns
                        + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
                "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + turns,
                "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
                        + "<|im_start|>assistant\n",
                "Hello!<|im_end|>",
                "4<|im_end|>");
    }

    @Test
    void mistralFoldsTheSystemMessageIntoTheFirstUserTurn() {
        assertRenders(
                "mistral",
                "<s> [INST] You are terse.\n\nHi there [/INST] Hello!</s> [INST] What is 2+2? [/INST] 4</s>",
                "<s> [INST] Hi there [/INST] Hello!</s>",
                "<s> [INST] You are terse.\n\nHi there [/INST]", // the template has no generation prompt of its own
                "Hello!</s>",
                "4</s>");
    }

    @Test
    void mistralV01RefusesASystemMessageAsItsPublishedTemplateDoes() {
        // Its alternation check sees the system message where a user turn must be, and raises first.
        JinjaChatTemplate template = named("mistral-v0.1");
        assertThat(text(template, Conversations.TWO_TURNS.subList(1, 5)))
                .isEqualTo("<s>[INST] Hi there [/INST]Hello!</s>[INST] What is 2+2? [/INST]4</s>");
        assertThatThrownBy(() -> template.render(Conversations.TWO_TURNS))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("the chat template refused the conversation: Conversation roles must alternate");
    }

    @Test
    void gemmaSpeaksAsModelAndFoldsTheSystemMessageIntoTheFirstUserTurn() {
        assertRenders(
                "gemma",
                "<bos><start_of_turn>user\nYou are terse.\n\nHi there<end_of_turn>\n"
                        + "<start_of_turn>model\nHello!<end_of_turn>\n"
                        + "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n"
                        + "<start_of_turn>model\n4<end_of_turn>\n",
                "<bos><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n",
                "<bos><start_of_turn>user\nYou are terse.\n\nHi there<end_of_turn>\n<start_of_turn>model\n",
                "Hello!<end_of_turn>",
                "4<end_of_turn>");
    }

    @Test
    void gemma2RefusesASystemMessageAndOtherwiseRendersAsGemma() {
        JinjaChatTemplate gemma2 = named("gemma2");
        List<Message> noSystem = Conversations.TWO_TURNS.subList(1, 5);
        assertThat(text(gemma2, noSystem)).isEqualTo(text(named("gemma"), noSystem));
        assertThatThrownBy(() -> gemma2.render(Conversations.TWO_TURNS))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("System role not supported");
    }

    @Test
    void phi3EndsTheConversationWithEosOnlyWithoutAGenerationPrompt() {
        assertRenders(
                "phi3",
                "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi there<|end|>\n<|assistant|>\nHello!<|end|>\n"
                        + "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n4<|end|>\n<|endoftext|>",
                "<|user|>\nHi there<|end|>\n<|assistant|>\nHello!<|end|>\n<|endoftext|>",
                "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi there<|end|>\n<|assistant|>\n",
                "Hello!<|end|>",
                "4<|end|>");
    }

    @Test
    void llama2WrapsTheSystemMessageInSysTagsInsideTheFirstInstruction() {
        assertRenders(
                "llama2",
                "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST] Hello! </s>"
                        + "<s>[INST] What is 2+2? [/INST] 4 </s>",
                "<s>[INST] Hi there [/INST] Hello! </s>",
                "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST]",
                "Hello! </s>",
                "4 </s>");
    }

    @Test
    void zephyrEndsEveryTurnWithEos() {
        assertRenders(
                "zephyr",
                "<|system|>\nYou are terse.</s>\n<|user|>\nHi there</s>\n<|assistant|>\nHello!</s>\n"
                        + "<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n4</s>\n",
                "<|user|>\nHi there</s>\n<|assistant|>\nHello!</s>\n",
                "<|system|>\nYou are terse.</s>\n<|user|>\nHi there</s>\n<|assistant|>\n",
                "Hello!</s>",
                "4</s>");
    }

    @Test
    void vicunaIsFastChatsV11Conversation() {
        assertRenders(
                "vicuna",
                "You are terse. USER: Hi there ASSISTANT: Hello!</s>USER: What is 2+2? ASSISTANT: 4</s>",
                "A chat between a curious user and an artificial intelligence assistant. The assistant gives"
                        + " helpful, detailed, and polite answers to the user's questions. USER: Hi there ASSISTANT:"
                        + " Hello!</s>",
                "You are terse. USER: Hi there ASSISTANT:",
                "Hello!</s>",
                "4</s>");
    }

    @Test
    void theNamedTemplateReportsItsNameAndHonoursAnEosOverride() {
        JinjaChatTemplate zephyr = NamedTemplates.of("Zephyr", "<|eos|>", "26 Jul 2024", JinjaLimits.DEFAULT)
                .orElseThrow();
        assertThat(zephyr.name()).isEqualTo("zephyr");
        assertThat(text(zephyr, SINGLE_TURN)).isEqualTo("<|user|>\nHi there<|eos|>\n<|assistant|>\nHello!<|eos|>\n");
        assertThat(NamedTemplates.of("falcon", null, "d", JinjaLimits.DEFAULT)).isEmpty();
    }

    @Test
    void recipesNameTheTemplateInFormatTypeOrChatTemplate(@TempDir Path models) {
        RecipeFormats formats = new RecipeFormats(models, "26 Jul 2024");
        RecipeFormat byFormatType = formats.of(RecipeParser.parse("""
                id: g
                training_config: {finetuning_type: full}
                data_config:
                  format_type: gemma
                """, "g.yaml").recipe());
        assertThat(byFormatType.template()).isEqualTo("gemma");
        FormattedExample example = byFormatType.renderer().render(Conversations.of(SINGLE_TURN));
        assertThat(example.text()).startsWith("<bos><start_of_turn>user\nHi there<end_of_turn>");

        RecipeFormat byChatTemplate =
                formats.of(RecipeParser.parse("""
                id: p
                training_config: {finetuning_type: full}
                data_config:
                  chat_template: phi3
                  eos_token: "<|eot|>"
                """, "p.yaml").recipe());
        assertThat(byChatTemplate
                        .renderer()
                        .render(Conversations.of(SINGLE_TURN))
                        .text())
                .isEqualTo("<|user|>\nHi there<|end|>\n<|assistant|>\nHello!<|end|>\n<|eot|>");

        assertThatThrownBy(() -> formats.of(RecipeParser.parse(
                                "id: f\ntraining_config: {finetuning_type: full}\ndata_config: {chat_template: falcon}",
                                "f")
                        .recipe()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("data_config.format_type 'falcon': expected chatml")
                .hasMessageContaining("zephyr");
    }

    @Test
    void theRecipeParserAcceptsExactlyTheNamesRendered() {
        assertThat(NamedTemplates.names()).isEqualTo(new TreeSet<>(ChatTemplateNames.NAMED));
    }

    /**
     * @param twoTurns   Conversations.TWO_TURNS (a system message, two exchanges), trained on every assistant turn
     * @param singleTurn one exchange without a system message
     * @param prompt     the generation prompt after a system message and one user turn
     * @param trained    the trained spans of twoTurns
     */
    private static void assertRenders(
            String name, String twoTurns, String singleTurn, String prompt, String... trained) {
        JinjaChatTemplate template = named(name);
        FormattedExample example = render(template, Conversations.TWO_TURNS, TrainOn.ASSISTANT);
        assertThat(example.text()).isEqualTo(twoTurns);
        assertThat(example.template()).isEqualTo(name);
        assertThat(BuiltInTemplatesTest.trained(example)).containsExactly(trained);
        assertThat(BuiltInTemplatesTest.trained(render(template, Conversations.TWO_TURNS, TrainOn.LAST_ASSISTANT)))
                .containsExactly(trained[trained.length - 1]);
        assertThat(text(template, SINGLE_TURN)).isEqualTo(singleTurn);
        assertThat(BuiltInTemplatesTest.trained(render(template, SINGLE_TURN, TrainOn.ASSISTANT)))
                .containsExactly(trained[0]);
        assertThat(template.generationPrompt(PROMPT)).isEqualTo(prompt);
        // What eval continues (the text before the last answer) begins with the generation prompt.
        assertThat(example.text()).startsWith(template.generationPrompt(PROMPT));
    }

    private static JinjaChatTemplate named(String name) {
        return NamedTemplates.of(name, null, "26 Jul 2024", JinjaLimits.DEFAULT).orElseThrow();
    }

    private static String text(ChatTemplate template, List<Message> messages) {
        return render(template, messages, TrainOn.ALL).text();
    }

    private static FormattedExample render(ChatTemplate template, List<Message> messages, TrainOn trainOn) {
        return new ExampleRenderer("r", template, trainOn, SystemPrompt.NONE).render(Conversations.of(messages));
    }
}
