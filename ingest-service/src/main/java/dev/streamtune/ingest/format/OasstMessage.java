package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** One message of an OpenAssistant conversation tree, with its replies. */
final class OasstMessage {

    final String id;
    final String parentId;
    final String treeId;
    final String role;
    final String text;
    final String lang;
    final Integer rank;
    final boolean excluded;
    final List<OasstMessage> replies = new ArrayList<>();

    private OasstMessage(
            String id,
            String parentId,
            String treeId,
            String role,
            String text,
            String lang,
            Integer rank,
            boolean excluded) {
        this.id = id;
        this.parentId = parentId;
        this.treeId = treeId;
        this.role = role;
        this.text = text;
        this.lang = lang;
        this.rank = rank;
        this.excluded = excluded;
    }

    /**
     * Reads the fields of one message (flat export row or tree node). Deleted messages and messages that failed
     * review are kept in the tree but marked excluded, so their whole subtree is left out of every path.
     */
    static OasstMessage of(JsonNode node, String at, String treeId) throws RecordException {
        String id = Fields.text(at + "message_id", node.get("message_id"));
        String parent = node.hasNonNull("parent_id") ? Fields.text(at + "parent_id", node.get("parent_id")) : null;
        String role = Fields.text(at + "role", node.get("role"));
        String text = Fields.text(at + "text", node.get("text"));
        String lang = node.hasNonNull("lang") ? node.get("lang").asText() : null;
        JsonNode rankNode = node.get("rank");
        Integer rank = null;
        if (rankNode != null && !rankNode.isNull()) {
            if (!rankNode.canConvertToInt()) {
                throw new RecordException(
                        at + "rank", "field '" + at + "rank': expected an integer, found " + Fields.typeOf(rankNode));
            }
            rank = rankNode.asInt();
        }
        boolean deleted = node.path("deleted").asBoolean(false);
        boolean failedReview = node.has("review_result")
                && !node.get("review_result").isNull()
                && !node.get("review_result").asBoolean(true);
        String tree = treeId != null ? treeId : node.path("message_tree_id").asText(null);
        return new OasstMessage(id, parent, tree, role, text, lang, rank, deleted || failedReview);
    }
}
