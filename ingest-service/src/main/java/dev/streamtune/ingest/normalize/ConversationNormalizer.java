package dev.streamtune.ingest.normalize;

import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.ingest.format.RecordException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Puts turns into the shape every later stage relies on. Content is never trimmed or re-spaced: whitespace is
 * part of what a chat template renders and what the model learns.
 */
public final class ConversationNormalizer {

    private ConversationNormalizer() {}

    public static List<Message> normalize(List<Message> turns, NormalizationPolicy policy) throws RecordException {
        List<Message> messages = new ArrayList<>();
        for (Message turn : turns) {
            // An empty system prompt means no system prompt.
            if (turn.role() == Role.SYSTEM && turn.content().isBlank()) {
                continue;
            }
            messages.add(turn);
        }
        if (messages.isEmpty()) {
            throw new RecordException(null, "conversation has no messages");
        }
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).content().isBlank()) {
                throw new RecordException(
                        "messages[" + i + "]",
                        "message " + (i + 1) + " (" + name(messages.get(i).role()) + ") has empty content");
            }
        }
        if (messages.stream().noneMatch(m -> m.role() == Role.USER || m.role() == Role.ASSISTANT)) {
            throw new RecordException(null, "conversation has no user or assistant turn");
        }
        List<Message> joined = joinSameRole(messages, policy.sameRole());
        Message last = joined.get(joined.size() - 1);
        if (policy.requireAssistantLast() && last.role() != Role.ASSISTANT) {
            throw new RecordException(
                    "messages[" + (joined.size() - 1) + "]",
                    "conversation ends with a "
                            + name(last.role()) + " turn; SFT needs a final assistant turn"
                            + " (set requireAssistantLast=false to keep such conversations)");
        }
        return joined;
    }

    private static List<Message> joinSameRole(List<Message> messages, NormalizationPolicy.SameRole policy)
            throws RecordException {
        List<Message> joined = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            Message message = messages.get(i);
            Message previous = joined.isEmpty() ? null : joined.get(joined.size() - 1);
            if (previous != null && previous.role() == message.role()) {
                if (policy == NormalizationPolicy.SameRole.REJECT) {
                    throw new RecordException(
                            "messages[" + i + "]",
                            "messages " + i + " and " + (i + 1) + " are both " + name(message.role())
                                    + " turns; set sameRole=merge to join them");
                }
                if (previous.untrained() != message.untrained()) {
                    throw new RecordException(
                            "messages[" + i + "]",
                            "messages " + i + " and " + (i + 1)
                                    + " are both " + name(message.role()) + " turns but only message "
                                    + (previous.untrained() ? i : i + 1)
                                    + " has weight 0 (not trained on); one merged turn"
                                    + " cannot be trained in part");
                }
                joined.set(
                        joined.size() - 1,
                        new Message(message.role(), previous.content() + "\n\n" + message.content(), message.weight()));
            } else {
                joined.add(message);
            }
        }
        return joined;
    }

    private static String name(Role role) {
        return role.name().toLowerCase(Locale.ROOT);
    }
}
