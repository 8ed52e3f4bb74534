package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.SourceRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
     * a duplicate id) or an {@link UnusableRecordException}.
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

    /** Links the rows into trees and returns each tree's conversations, plus one problem per orphaned subtree. */
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
        rowsById.clear();
        return threads;
    }
}
