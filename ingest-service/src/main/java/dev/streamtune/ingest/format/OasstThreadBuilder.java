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
 * {@code parent_id}), which is how the oasst1/oasst2 datasets are published.
 *
 * <p>The exports list a tree's messages together, so rows are grouped by {@code message_tree_id}: one tree is held
 * at a time, and it is linked and released as soon as a row of the next tree arrives (or at {@link #finish}).
 * Within a tree the rows may come in any order. What is held is bounded by {@code treeLimit}, the bytes of one
 * tree's rows as read (the heap they take is a small multiple of that): a tree that grows past it is released at
 * once, counted on, and rejected whole, with one problem, when it ends. Beyond the tree being read, only the ids of
 * the trees already finished are kept, to recognise a tree whose rows are not contiguous; its late rows are
 * rejected one by one.
 *
 * <p>Rows without a {@code message_tree_id} cannot be grouped: they are held together until {@link #finish}, as one
 * more tree under the same limit.
 */
public final class OasstThreadBuilder {

    private final FormatOptions options;
    private final long treeLimit;
    private final Set<String> finishedTrees = new HashSet<>();
    private Tree current;
    private Tree untreed;

    /** @param treeLimit the most bytes of rows one tree may hold; a larger tree is rejected */
    public OasstThreadBuilder(FormatOptions options, long treeLimit) {
        this.options = options;
        this.treeLimit = treeLimit;
    }

    /** A message row, where it came from, and its bytes for a dead letter (cut) and as read (full size). */
    private record Row(OasstMessage message, SourceRef source, byte[] payload, long payloadSize) {}

    /**
     * The conversations of one tree, or why it yields none: {@code problem} is a rejection (an orphaned message,
     * a message in a parent cycle, a tree over the limit) or an {@link UnusableRecordException}.
     */
    public record Thread(
            SourceRef source,
            byte[] payload,
            long payloadSize,
            List<ParsedRecord> conversations,
            RecordException problem) {}

    /** The rows of one tree (null id: the rows without one), or only their counts once it went past the limit. */
    private static final class Tree {
        final String id;
        final Row first;
        final Map<String, Row> rowsById = new LinkedHashMap<>();
        int messages;
        long bytes;
        boolean overflowed;

        Tree(Row first) {
            this.id = first.message().treeId;
            this.first = first;
        }
    }

    /**
     * Adds one message row. A row missing its id, role or text, repeating an id of its tree or arriving after its
     * tree ended is refused at once; a row of another tree finishes the tree read so far.
     *
     * @return the threads of the tree this row finished, if it started a new one
     */
    public List<Thread> add(JsonNode json, SourceRef source, byte[] payload, long payloadSize) throws RecordException {
        OasstMessage message = OasstMessage.of(json, "", null);
        Row row = new Row(message, source, payload, payloadSize);
        if (message.treeId == null) {
            if (untreed == null) {
                untreed = new Tree(row);
            } else {
                refuseTwice(untreed, message);
            }
            hold(untreed, row);
            return List.of();
        }
        if (finishedTrees.contains(message.treeId)) {
            throw new RecordException(
                    "message_tree_id",
                    "OASST message " + message.id + " belongs to tree "
                            + message.treeId
                            + ", whose rows ended before it: a flat export must list each tree's messages"
                            + " together; this message is left out");
        }
        List<Thread> finished = List.of();
        if (current != null && current.id.equals(message.treeId)) {
            refuseTwice(current, message);
        } else {
            finished = finishTree(current);
            current = new Tree(row);
        }
        hold(current, row);
        return finished;
    }

    /** Finishes the tree read last and the rows without a tree id; the builder holds nothing afterwards. */
    public List<Thread> finish() {
        List<Thread> threads = new ArrayList<>(finishTree(current));
        threads.addAll(finishTree(untreed));
        current = null;
        untreed = null;
        return threads;
    }

    /** How many message rows are held: those of the tree being read and those without a tree id. */
    public int heldMessages() {
        return (current == null ? 0 : current.rowsById.size()) + (untreed == null ? 0 : untreed.rowsById.size());
    }

    private static void refuseTwice(Tree tree, OasstMessage message) throws RecordException {
        Row first = tree.rowsById.get(message.id);
        if (first != null) {
            throw new RecordException(
                    "message_id",
                    "OASST message id " + message.id + " appears twice (first at "
                            + first.source().describe() + ")");
        }
    }

    private void hold(Tree tree, Row row) {
        tree.messages++;
        tree.bytes += row.payloadSize();
        if (tree.overflowed) {
            return;
        }
        if (tree.bytes > treeLimit) {
            // Counted on to the tree's end, for a rejection that says how large it was; nothing more is held.
            tree.overflowed = true;
            tree.rowsById.clear();
            return;
        }
        tree.rowsById.put(row.message().id, row);
    }

    private List<Thread> finishTree(Tree tree) {
        if (tree == null) {
            return List.of();
        }
        if (tree.id != null) {
            finishedTrees.add(tree.id);
        }
        if (tree.overflowed) {
            String which = tree.id == null ? "OASST rows without a message_tree_id" : "OASST tree " + tree.id;
            return List.of(new Thread(
                    tree.first.source(),
                    tree.first.payload(),
                    tree.first.payloadSize(),
                    List.of(),
                    new RecordException(
                            "message_tree_id",
                            which + ": " + tree.messages + " messages (" + tree.bytes
                                    + " bytes), more than the " + treeLimit + " bytes one tree may hold"
                                    + " (ingest.oasst-max-tree-size); none of its conversations are taken")));
        }
        return link(tree);
    }

    /**
     * Links the rows of one tree and returns its conversations, one problem per orphaned subtree, and one per
     * message that no prompt leads to because its parents go round in a cycle.
     */
    private List<Thread> link(Tree tree) {
        Map<String, Row> rowsById = tree.rowsById;
        List<Row> roots = new ArrayList<>();
        List<Row> orphans = new ArrayList<>();
        for (Row row : rowsById.values()) {
            String parentId = row.message().parentId;
            if (parentId == null) {
                roots.add(row);
            } else if (rowsById.containsKey(parentId)) {
                rowsById.get(parentId).message().replies.add(row.message());
            } else {
                orphans.add(row);
            }
        }
        List<Thread> threads = new ArrayList<>();
        for (Row root : roots) {
            try {
                threads.add(new Thread(
                        root.source(),
                        root.payload(),
                        root.payloadSize(),
                        OasstPaths.conversations(root.message(), options),
                        null));
            } catch (RecordException e) {
                threads.add(new Thread(root.source(), root.payload(), root.payloadSize(), List.of(), e));
            }
        }
        String missing =
                tree.id == null ? "which is not in the input" : "which is not among the rows of its tree " + tree.id;
        for (Row orphan : orphans) {
            threads.add(new Thread(
                    orphan.source(),
                    orphan.payload(),
                    orphan.payloadSize(),
                    List.of(),
                    new RecordException(
                            "parent_id",
                            "OASST message " + orphan.message().id + " replies to " + orphan.message().parentId + ", "
                                    + missing + "; its thread cannot be rebuilt")));
        }
        Set<String> reached = reachable(roots, orphans);
        for (Row row : rowsById.values()) {
            if (!reached.contains(row.message().id)) {
                threads.add(new Thread(
                        row.source(),
                        row.payload(),
                        row.payloadSize(),
                        List.of(),
                        new RecordException("parent_id", inCycle(row.message(), rowsById))));
            }
        }
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
     * missing from its tree: that would have made it an orphan's reply), so it comes round to a message seen
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
        String first =
                rowsById.keySet().stream().filter(cycle::contains).findFirst().orElseThrow();
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
