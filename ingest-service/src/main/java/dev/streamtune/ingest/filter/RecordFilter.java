package dev.streamtune.ingest.filter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.ingest.format.ParsedRecord;
import java.util.List;
import java.util.Optional;

/**
 * Which well-formed conversations a dataset takes. A conversation that fails a filter is counted as unused with the
 * reason, never dead-lettered: it is not wrong, only not wanted.
 *
 * @param predicates conditions on the input record ({@code metadata.augmented==true})
 * @param lang       keep only this language (OASST trees carry theirs; others pass)
 * @param minTurns   fewest user and assistant turns
 * @param maxTurns   most user and assistant turns
 * @param maxChars   most characters over all turns
 */
public record RecordFilter(
        List<MetadataPredicate> predicates, String lang, Integer minTurns, Integer maxTurns, Integer maxChars) {

    public static final RecordFilter NONE = new RecordFilter(List.of(), null, null, null, null);

    public RecordFilter {
        predicates = List.copyOf(predicates);
    }

    /** Why the conversation is not wanted, or empty when it passes. */
    public Optional<String> exclusion(JsonNode input, ParsedRecord parsed, List<Message> messages) {
        for (MetadataPredicate predicate : predicates) {
            if (!predicate.test(input)) {
                return Optional.of("filter " + predicate.expression());
            }
        }
        if (lang != null) {
            JsonNode recordLang = parsed.metadata().get("lang");
            if (recordLang != null && !recordLang.asText().equalsIgnoreCase(lang)) {
                return Optional.of("language " + recordLang.asText() + " is not " + lang);
            }
        }
        long turns = messages.stream()
                .filter(m -> m.role() == Role.USER || m.role() == Role.ASSISTANT)
                .count();
        if (minTurns != null && turns < minTurns) {
            return Optional.of("fewer than " + minTurns + " turns");
        }
        if (maxTurns != null && turns > maxTurns) {
            return Optional.of("more than " + maxTurns + " turns");
        }
        if (maxChars != null
                && messages.stream().mapToLong(m -> m.content().length()).sum() > maxChars) {
            return Optional.of("longer than " + maxChars + " characters");
        }
        return Optional.empty();
    }
}
