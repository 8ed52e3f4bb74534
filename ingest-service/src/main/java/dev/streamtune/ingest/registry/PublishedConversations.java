package dev.streamtune.ingest.registry;

import dev.streamtune.events.Split;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** What deduplication looks up among the conversations published so far, into any dataset. */
public interface PublishedConversations {

    /** A published conversation that shares a MinHash band key with a candidate. */
    record StoredSignature(String id, Split split, int[] signature) {}

    /** The split of each of {@code ids} that was already published. */
    Map<String, Split> published(Collection<String> ids) throws SQLException;

    /** Published conversations sharing at least one of these MinHash band keys. */
    List<StoredSignature> sharingBands(Collection<Long> bandKeys) throws SQLException;
}
