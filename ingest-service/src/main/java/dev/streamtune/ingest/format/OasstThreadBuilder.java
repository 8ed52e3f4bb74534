package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.SourceRef;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rebuilds OASST conversation trees from the flat message export (one row per message, linked by
 * {@code parent_id}), which is how the oasst1/oasst2 datasets are published. Rows are collected for a whole file,
 * because a tree's rows need not be adjacent; {@link #finish} then yields one result per prompt (root message).
 */
public final class OasstThreadBuilder {

    private final Map<String, Row> rowsById = new LinkedHashMap<>();

    /** A message row and where it came from. */
    private record Row(OasstMessage message, SourceRef source, byte[] payload) {
    }

    /**
     * The conversations of one tree, or why it yields none: {@code problem} is a rejection (an orphaned message,
     * a message in a parent cycle) or an {@link UnusableRecordException}.
     */
    public record Thread(SourceRef source, byte[] payload, List<ParsedRecord> conversations, RecordException problem) {
    }

    /** Adds one message row; a row missing its id, role or text is refused at once. */
    public void add(JsonNode row, SourceRef source, byte[] payload) throws RecordException {
        OasstMessage message = OasstMessage.of(row, "", null);
        if (rowsById.containsKey(message.id)) {
            throw new RecordException("message_id", "OASST message id " + message.id + " appears twice (first at "
                    + rowsById.get(message.id).source().describe() + ")");
        }
        rowsById.put(message.id, new Row(message, source, payload));
    }

    public boolean isEmpty() {
        return rowsById.isEmpty();
    }

    /**
     * Links the rows into trees and returns each tree's conversations, one problem per orphaned subtree, and one
     * per message that no prompt leads to because its parents go round in a cycle.
     */
    public List<Thread> finish(FormatOptions options) {
        List<Row> roots = new ArrayList<>();
        List<Row> orphans = new ArrayList<>();
        Map<String, Row> byId = new HashMap<>(rowsById);
        for (Row row : rowsById.values()) {
            String parentId = row.message().parentId;
            if (parentId == null) {
                roots.add(row);
            } else if (byId.containsKey(parentId)) {
                byId.get(parentId).message().replies.add(row.message());
            } else {
                orphans.add(row);
            }
        }
        List<Thread> threads = new ArrayList<>();
        for (Row root : roots) {
            try {
                threads.add(new Thread(root.source(), root.payload(), OasstPaths.conversations(root.message(), options), null));
            } catch (RecordException e) {
                threads.add(new Thread(root.source(), root.payload(), List.of(), e));
            }
        }
        for (Row orphan : orphans) {
            threads.add(new Thread(orphan.source(), orphan.payload(), List.of(), new RecordException("parent_id",
                    "OASST message " + orphan.message().id + " replies to " + orphan.message().parentId
                            + ", which is not in the input; its thread cannot be rebuilt")));
        }
        Set<String> reached = reachable(roots, orphans);
        for (Row row : rowsById.values()) {
            if (!reached.contains(row.message().id)) {
                threads.add(new Thread(row.source(), row.payload(), List.of(),
                        new RecordException("parent_id", inCycle(row.message(), rowsById))));
            }
        }
        rowsById.clear();
        return threads;
    }

    /** The ids of every message below a root or an orphan; whatever else there is hangs in a parent cycle. */
    private static Set<String> reachable(List<Row> roots, List<Row> orphans) {
        Set<String> reached = new HashSet<>();
        Deque<OasstMessage> pending = new ArrayDeque<>();
        roots.forEach(row -> pending.push(row.message()));
        orphans.forEach(row -> pending.push(row.message()));
        while (!pending.isEmpty()) {
            OasstMessage message = pending.pop();
            if (reached.add(message.id)) {
                message.replies.forEach(pending::push);
            }
        }
        return reached;
    }

    /**
     * Why a message no prompt leads to is refused. Following its parents never ends at a prompt (or at a parent
     * missing from the input: that would have made it an orphan's reply), so it comes round to a message seen
     * before: the cycle, named from the message itself when it is in it, else from the cycle's first row.
     */
    private static String inCycle(OasstMessage message, Map<String, Row> rowsById) {
        if (message.id.equals(message.parentId)) {
            return "OASST message " + message.id + " is its own parent (parent_id " + message.parentId + "); its"
                    + " thread cannot be rebuilt";
        }
        List<String> chain = new ArrayList<>();
        Map<String, Integer> at = new HashMap<>();
        String id = message.id;
        while (!at.containsKey(id)) {
            at.put(id, chain.size());
            chain.add(id);
            id = rowsById.get(id).message().parentId;
        }
        List<String> cycle = chain.subList(at.get(id), chain.size());
        if (cycle.contains(message.id)) {
            return "OASST message " + message.id + " is in a parent_id cycle (" + describe(cycle, message.id)
                    + ", each replying to the next), so no prompt leads to it; its thread cannot be rebuilt";
        }
        String first = rowsById.keySet().stream().filter(cycle::contains).findFirst().orElseThrow();
        return "OASST message " + message.id + " replies into a parent_id cycle (" + describe(cycle, first)
                + ", each replying to the next), so no prompt leads to it; its thread cannot be rebuilt";
    }

    /** "c1 -> c2 -> c1": the cycle from {@code start} round to it again. */
    private static String describe(List<String> cycle, String start) {
        int from = cycle.indexOf(start);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i <= cycle.size(); i++) {
            text.append(i == 0 ? "" : " -> ").append(cycle.get((from + i) % cycle.size()));
        }
        return text.toString();
    }
}
