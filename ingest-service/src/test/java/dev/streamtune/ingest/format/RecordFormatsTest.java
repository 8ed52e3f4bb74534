package dev.streamtune.ingest.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.InstructionParts;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.events.serde.EventJson;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RecordFormatsTest {

    private static JsonNode json(String text) throws Exception {
        return EventJson.mapper().readTree(text);
    }

    private static ParsedRecord read(String record) throws Exception {
        List<ParsedRecord> parsed = RecordFormats.read(json(record), FormatOptions.DEFAULTS);
        assertThat(parsed).hasSize(1);
        return parsed.get(0);
    }

    /** The Primus alias table: the first name present wins, instruction > prompt > question, response > output > answer. */
    @ParameterizedTest(name = "{0} -> {1} / {2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"instruction\":\"I\",\"prompt\":\"P\",\"question\":\"Q\",\"output\":\"O\"}  | I | O",
                "{\"prompt\":\"P\",\"question\":\"Q\",\"output\":\"O\",\"input\":\"\"}        | P | O",
                "{\"question\":\"Q\",\"answer\":\"A\"}                                         | Q | A",
                "{\"instruction\":\"I\",\"response\":\"R\",\"output\":\"O\",\"answer\":\"A\"}  | I | R",
                "{\"instruction\":\"I\",\"output\":\"O\",\"answer\":\"A\"}                     | I | O",
                "{\"question\":\"Q\",\"input\":\"\",\"answer\":\"A\"}                          | Q | A"
            })
    void alpacaAliasesFollowThePriorityTable(String record, String instruction, String answer) throws Exception {
        ParsedRecord parsed = read(record);

        assertThat(parsed.format()).isEqualTo(RecordFormat.ALPACA);
        assertThat(parsed.messages()).containsExactly(Message.user(instruction), Message.assistant(answer));
    }

    @Test
    void alpacaJoinsInputAfterABlankLineAndKeepsThePartsApart() throws Exception {
        ParsedRecord parsed = read(
                "{\"instruction\":\"Summarise.\",\"input\":\"Text.\",\"output\":\"Short.\",\"system\":\"Be terse.\"}");

        assertThat(parsed.messages())
                .containsExactly(
                        Message.system("Be terse."), Message.user("Summarise.\n\nText."), Message.assistant("Short."));
        assertThat(parsed.instruction()).isEqualTo(new InstructionParts("Summarise.", "Text."));
    }

    @Test
    void dollyIsToldApartFromAlpacaByItsContextAndCategory() throws Exception {
        ParsedRecord parsed = read(
                "{\"instruction\":\"When?\",\"context\":\"In 1990.\",\"response\":\"1990.\",\"category\":\"closed_qa\"}");

        assertThat(parsed.format()).isEqualTo(RecordFormat.DOLLY);
        assertThat(parsed.messages().get(0)).isEqualTo(Message.user("When?\n\nIn 1990."));
        assertThat(parsed.metadata().get("category").asText()).isEqualTo("closed_qa");
    }

    @Test
    void promptResponseRecordsKeepTheirSource() throws Exception {
        ParsedRecord parsed = read("{\"prompt\":\"Hi\",\"response\":\"Hello\",\"source\":\"oasst\"}");

        assertThat(parsed.format()).isEqualTo(RecordFormat.PROMPT_RESPONSE);
        assertThat(parsed.metadata().get("source").asText()).isEqualTo("oasst");
    }

    @Test
    void shareGptTakesATopLevelSystemPromptAndKeepsTheId() throws Exception {
        ParsedRecord parsed =
                read("{\"id\":\"c7\",\"system\":\"S\",\"conversations\":[{\"from\":\"human\",\"value\":\" hi \"},"
                        + "{\"from\":\"gpt\",\"value\":\"yo\\n\"}]}");

        assertThat(parsed.messages())
                .containsExactly(Message.system("S"), Message.user(" hi "), Message.assistant("yo\n"));
        assertThat(parsed.metadata().get("source_id").asText()).isEqualTo("c7");
    }

    @Test
    void openAiTextPartsAreJoinedAndOtherPartsRefused() throws Exception {
        ParsedRecord parsed = read("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                + "{\"type\":\"text\",\"text\":\"b\"}]},{\"role\":\"assistant\",\"content\":\"c\"}]}");
        assertThat(parsed.messages().get(0)).isEqualTo(Message.user("ab"));

        assertThatThrownBy(() -> read("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}"))
                .isInstanceOf(RecordException.class)
                .hasMessage(
                        "'messages[0].content[0]' is a content part of type 'image_url'; only text parts are supported");
    }

    @Test
    void openAiWeightZeroLeavesAnAssistantTurnUntrainedAndWeightOneIsTheDefault() throws Exception {
        ParsedRecord parsed = read("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},"
                + "{\"role\":\"assistant\",\"content\":\"Hullo?\",\"weight\":0},"
                + "{\"role\":\"user\",\"content\":\"Again\"},"
                + "{\"role\":\"assistant\",\"content\":\"Hello!\",\"weight\":1}]}");

        assertThat(parsed.messages())
                .containsExactly(
                        Message.user("Hi"),
                        new Message(Role.ASSISTANT, "Hullo?", 0),
                        Message.user("Again"),
                        Message.assistant("Hello!"));
        assertThat(parsed.messages().get(1).untrained()).isTrue();
        assertThat(parsed.messages().get(3).untrained()).isFalse();
    }

    @ParameterizedTest(name = "weight {0}")
    @CsvSource(
            delimiter = '|',
            value = {"2 | 2", "0.5 | 0.5", "\"0\" | a string", "true | a boolean", "-1 | -1"})
    void anOpenAiWeightOtherThanZeroOrOneIsRefusedNamingTheField(String weight, String found) {
        assertThatThrownBy(() -> read("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},"
                        + "{\"role\":\"assistant\",\"content\":\"Hello!\",\"weight\":" + weight + "}]}"))
                .isInstanceOf(RecordException.class)
                .hasMessageStartingWith(
                        "field 'messages[1].weight': expected 0 (not trained on) or 1 (trained), found " + found)
                .satisfies(e -> assertThat(((RecordException) e).field()).isEqualTo("messages[1].weight"));
    }

    @Test
    void fieldMappingAndRoleOverridesApply() throws Exception {
        FormatOptions options = new FormatOptions(
                RecordFormat.SHAREGPT,
                FieldMapping.parse(List.of("conversations=dialog", "from=speaker", "value=text")),
                RoleNames.withOverrides(List.of("narrator=assistant")),
                FormatOptions.OasstPaths.BEST);

        List<ParsedRecord> parsed = RecordFormats.read(
                json("{\"dialog\":[{\"speaker\":\"human\",\"text\":\"q\"},"
                        + "{\"speaker\":\"narrator\",\"text\":\"a\"}]}"),
                options);

        assertThat(parsed.get(0).messages()).containsExactly(Message.user("q"), Message.assistant("a"));
    }

    @Test
    void anUnrecognisedRecordListsItsFields() {
        assertThatThrownBy(() -> read("{\"foo\":1,\"bar\":2}"))
                .isInstanceOf(RecordException.class)
                .hasMessageStartingWith(
                        "cannot tell the format of a record with fields [bar, foo]; expected conversations (ShareGPT)");
    }

    @Test
    void oasstTreesYieldTheBestPathOrEveryPath() throws Exception {
        String tree =
                "{\"message_tree_id\":\"t\",\"prompt\":{\"message_id\":\"p\",\"role\":\"prompter\",\"text\":\"Q\",\"lang\":\"en\","
                        + "\"replies\":[{\"message_id\":\"a\",\"role\":\"assistant\",\"text\":\"A\",\"rank\":1},"
                        + "{\"message_id\":\"b\",\"role\":\"assistant\",\"text\":\"B\",\"rank\":0,\"replies\":["
                        + "{\"message_id\":\"c\",\"role\":\"prompter\",\"text\":\"unanswered\"}]},"
                        + "{\"message_id\":\"d\",\"role\":\"assistant\",\"text\":\"D\",\"rank\":2,\"deleted\":true}]}}";

        List<ParsedRecord> best = RecordFormats.read(json(tree), FormatOptions.DEFAULTS);
        List<ParsedRecord> all = RecordFormats.read(
                json(tree),
                new FormatOptions(null, FieldMapping.NONE, RoleNames.DEFAULT, FormatOptions.OasstPaths.ALL));

        assertThat(best)
                .singleElement()
                .satisfies(r -> assertThat(r.messages()).containsExactly(Message.user("Q"), Message.assistant("B")));
        assertThat(all)
                .extracting(ParsedRecord::messages)
                .containsExactlyInAnyOrder(
                        List.of(Message.user("Q"), Message.assistant("A")),
                        List.of(Message.user("Q"), Message.assistant("B")));
    }
}
