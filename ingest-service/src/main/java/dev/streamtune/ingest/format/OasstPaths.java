package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Turns an OASST message tree into conversations: the best-ranked path, or every path. */
final class OasstPaths {

    /** Rank 0 is the best reply; unranked replies come after ranked ones; ties keep the input order. */
    private static final Comparator<OasstMessage> BEST_FIRST =
            Comparator.comparing(m -> m.rank == null ? Integer.MAX_VALUE : m.rank);

    private OasstPaths() {}

    static List<ParsedRecord> conversations(OasstMessage root, FormatOptions options) throws RecordException {
        if (root.excluded) {
            throw new UnusableRecordException("OASST tree " + root.treeId + ": its prompt is deleted or failed review");
        }
        List<List<OasstMessage>> paths = new ArrayList<>();
        if (options.oasstPaths() == FormatOptions.OasstPaths.BEST) {
            paths.add(bestPath(root));
        } else {
            collectAll(root, paths);
        }
        Set<List<String>> seen = new LinkedHashSet<>();
        List<ParsedRecord> conversations = new ArrayList<>();
        for (List<OasstMessage> path : paths) {
            List<OasstMessage> trimmed = endOnAssistant(path, options.roles());
            if (trimmed.isEmpty() || !seen.add(trimmed.stream().map(m -> m.id).toList())) {
                continue;
            }
            conversations.add(toRecord(trimmed, options.roles()));
        }
        if (conversations.isEmpty()) {
            throw new UnusableRecordException("OASST tree " + root.treeId + " has no assistant reply to its prompt");
        }
        return conversations;
    }

    private static List<OasstMessage> bestPath(OasstMessage root) {
        List<OasstMessage> path = new ArrayList<>();
        OasstMessage current = root;
        while (current != null) {
            path.add(current);
            current = current.replies.stream()
                    .filter(m -> !m.excluded)
                    .min(BEST_FIRST)
                    .orElse(null);
        }
        return path;
    }

    /**
     * Every root-to-leaf path, in the order of the replies. Walked with a stack of its own, not by recursion: a flat
     * export's rows may chain tens of thousands of turns (as many as ingest.oasst-max-tree-size holds), deeper than
     * a thread's stack goes.
     */
    private static void collectAll(OasstMessage root, List<List<OasstMessage>> paths) {
        record Step(OasstMessage message, int depth) {}
        Deque<Step> pending = new ArrayDeque<>();
        pending.push(new Step(root, 0));
        List<OasstMessage> prefix = new ArrayList<>();
        while (!pending.isEmpty()) {
            Step step = pending.pop();
            prefix.subList(step.depth(), prefix.size()).clear();
            prefix.add(step.message());
            List<OasstMessage> replies =
                    step.message().replies.stream().filter(m -> !m.excluded).toList();
            if (replies.isEmpty()) {
                paths.add(List.copyOf(prefix));
            }
            for (int i = replies.size() - 1; i >= 0; i--) {
                pending.push(new Step(replies.get(i), step.depth() + 1));
            }
        }
    }

    /** A path may end on an unanswered prompter message; SFT needs it to end on the assistant. */
    private static List<OasstMessage> endOnAssistant(List<OasstMessage> path, RoleNames roles) throws RecordException {
        int end = path.size();
        while (end > 0 && roles.resolve("role", path.get(end - 1).role) != Role.ASSISTANT) {
            end--;
        }
        return path.subList(0, end);
    }

    private static ParsedRecord toRecord(List<OasstMessage> path, RoleNames roles) throws RecordException {
        List<Message> messages = new ArrayList<>();
        ArrayNode ids = JsonNodeFactory.instance.arrayNode();
        for (OasstMessage message : path) {
            messages.add(new Message(roles.resolve("role", message.role), message.text));
            ids.add(message.id);
        }
        OasstMessage root = path.get(0);
        ObjectNode metadata = JsonNodeFactory.instance.objectNode();
        if (root.treeId != null) {
            metadata.put("message_tree_id", root.treeId);
        }
        if (root.lang != null) {
            metadata.put("lang", root.lang);
        }
        metadata.put("source_id", path.get(path.size() - 1).id);
        metadata.set("message_ids", ids);
        return new ParsedRecord(RecordFormat.OASST, messages, metadata, null);
    }
}
