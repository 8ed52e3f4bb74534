package dev.streamtune.ingest.registry;

import dev.streamtune.events.Split;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The ingest service's writes: which conversations were published (for deduplication) and the registry counts,
 * committed together after Kafka acknowledged a chunk. Plain SQL because every write is an upsert that adds to a
 * counter, which PostgreSQL does in one statement without a read, and because a chunk's claims are an insert whose
 * conflicts PostgreSQL settles between concurrent transactions.
 */
@ApplicationScoped
public class IngestLedger implements PublishedConversations, ChunkLedger {

    private final AgroalDataSource dataSource;

    public IngestLedger(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    @Transactional(Transactional.TxType.SUPPORTS)
    public Map<String, Split> published(Collection<String> ids) throws SQLException {
        Map<String, Split> found = new HashMap<>();
        if (ids.isEmpty()) {
            return found;
        }
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select =
                        connection.prepareStatement("select id, split from seen_conversation where id = any (?)")) {
            select.setArray(1, connection.createArrayOf("varchar", ids.toArray()));
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    found.put(rows.getString(1), Split.fromWireName(rows.getString(2)));
                }
            }
        }
        return found;
    }

    @Override
    @Transactional(Transactional.TxType.SUPPORTS)
    public List<StoredSignature> sharingBands(Collection<Long> bandKeys) throws SQLException {
        List<StoredSignature> found = new ArrayList<>();
        if (bandKeys.isEmpty()) {
            return found;
        }
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "select id, split, signature from seen_conversation where bands && ?")) {
            select.setArray(1, connection.createArrayOf("bigint", bandKeys.toArray()));
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    Integer[] boxed = (Integer[]) rows.getArray(3).getArray();
                    int[] signature = new int[boxed.length];
                    for (int i = 0; i < boxed.length; i++) {
                        signature[i] = boxed[i];
                    }
                    found.add(new StoredSignature(rows.getString(1), Split.fromWireName(rows.getString(2)), signature));
                }
            }
        }
        return found;
    }

    /** Conversations published so far per split of a dataset, for size-capped splits. */
    @Transactional(Transactional.TxType.SUPPORTS)
    public Map<Split, Long> publishedPerSplit(String dataset) throws SQLException {
        Map<Split, Long> perSplit = new EnumMap<>(Split.class);
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "select split, count(*) from seen_conversation where dataset = ? group by split")) {
            select.setString(1, dataset);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    perSplit.put(Split.fromWireName(rows.getString(1)), rows.getLong(2));
                }
            }
        }
        return perSplit;
    }

    /**
     * Claims the conversations of a chunk on a connection of its own, outside any JTA transaction: the claim's
     * transaction stays open while the chunk is sent to Kafka and ends with {@link ChunkLedger.Claim#record} or
     * {@link ChunkLedger.Claim#close}.
     */
    @Override
    @Transactional(Transactional.TxType.NOT_SUPPORTED)
    public Claim claim(List<Seen> conversations) throws SQLException {
        Connection connection = dataSource.getConnection();
        try {
            connection.setAutoCommit(false);
            Set<String> won = insertClaims(connection, conversations);
            List<String> lost = conversations.stream()
                    .map(Seen::id)
                    .filter(id -> !won.contains(id))
                    .toList();
            return new OpenClaim(connection, won, splitsOf(connection, lost));
        } catch (SQLException | RuntimeException e) {
            giveBack(connection, e);
            throw e;
        }
    }

    /**
     * Inserts a row per conversation unless its id is there, and returns the ids inserted. Rows go in id order: two
     * chunks waiting on each other's uncommitted ids then always wait in the same order, which cannot deadlock. The
     * chunk goes as one statement over arrays, one element per conversation: a statement per row cost PostgreSQL
     * more than anything else the pipeline asked of it.
     */
    private static Set<String> insertClaims(Connection connection, List<Seen> conversations) throws SQLException {
        Set<String> won = new HashSet<>();
        if (conversations.isEmpty()) {
            return won;
        }
        int n = conversations.size();
        String[] ids = new String[n];
        String[] datasets = new String[n];
        String[] splits = new String[n];
        String[] signatures = new String[n];
        String[] bands = new String[n];
        for (int i = 0; i < n; i++) {
            Seen row = conversations.get(i);
            ids[i] = row.id();
            datasets[i] = row.dataset();
            splits[i] = row.split().wireName();
            // Arrays of arrays do not unnest row by row, so each row's arrays travel as their text form.
            signatures[i] = row.signature() == null ? null : arrayText(row.signature());
            bands[i] = row.bands() == null ? null : arrayText(row.bands());
        }
        try (PreparedStatement insert = connection.prepareStatement("""
                insert into seen_conversation (id, dataset, split, signature, bands, first_seen_at)
                select c.id, c.dataset, c.split, c.signature::integer[], c.bands::bigint[], now()
                from unnest(?::varchar[], ?::varchar[], ?::varchar[], ?::text[], ?::text[])
                     as c (id, dataset, split, signature, bands)
                order by c.id
                on conflict (id) do nothing
                returning id""")) {
            insert.setArray(1, connection.createArrayOf("varchar", ids));
            insert.setArray(2, connection.createArrayOf("varchar", datasets));
            insert.setArray(3, connection.createArrayOf("varchar", splits));
            insert.setArray(4, connection.createArrayOf("text", signatures));
            insert.setArray(5, connection.createArrayOf("text", bands));
            try (ResultSet inserted = insert.executeQuery()) {
                while (inserted.next()) {
                    won.add(inserted.getString(1));
                }
            }
        }
        return won;
    }

    /** An array in PostgreSQL's text form, {@code {1,2,3}}. */
    private static String arrayText(int[] values) {
        StringBuilder text = new StringBuilder(values.length * 11 + 2).append('{');
        for (int i = 0; i < values.length; i++) {
            text.append(i == 0 ? "" : ",").append(values[i]);
        }
        return text.append('}').toString();
    }

    private static String arrayText(long[] values) {
        StringBuilder text = new StringBuilder(values.length * 20 + 2).append('{');
        for (int i = 0; i < values.length; i++) {
            text.append(i == 0 ? "" : ",").append(values[i]);
        }
        return text.append('}').toString();
    }

    private static Map<String, Split> splitsOf(Connection connection, List<String> ids) throws SQLException {
        Map<String, Split> splits = new HashMap<>();
        if (ids.isEmpty()) {
            return splits;
        }
        try (PreparedStatement select =
                connection.prepareStatement("select id, split from seen_conversation where id = any (?)")) {
            select.setArray(1, connection.createArrayOf("varchar", ids.toArray()));
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    splits.put(rows.getString(1), Split.fromWireName(rows.getString(2)));
                }
            }
        }
        return splits;
    }

    /** A chunk's claims in their open transaction. */
    private static final class OpenClaim implements Claim {
        private final Connection connection;
        private final Set<String> won;
        private final Map<String, Split> publishedSplits;
        private boolean recorded;

        OpenClaim(Connection connection, Set<String> won, Map<String, Split> publishedSplits) {
            this.connection = connection;
            this.won = won;
            this.publishedSplits = publishedSplits;
        }

        @Override
        public boolean won(String id) {
            return won.contains(id);
        }

        @Override
        public Split publishedSplit(String id) {
            return publishedSplits.get(id);
        }

        @Override
        public void record(String dataset, String source, String splitPolicy, Counts counts) throws SQLException {
            addCounts(connection, dataset, source, splitPolicy, counts);
            connection.commit();
            recorded = true;
        }

        @Override
        public void close() throws SQLException {
            if (recorded) {
                try (connection) {
                    connection.setAutoCommit(true);
                }
            } else {
                giveBack(connection, null);
            }
        }
    }

    /** Rolls back whatever the connection claimed and returns it to the pool. */
    private static void giveBack(Connection connection, Exception failure) throws SQLException {
        try (connection) {
            connection.rollback();
            connection.setAutoCommit(true);
        } catch (SQLException e) {
            if (failure == null) {
                throw e;
            }
            failure.addSuppressed(e);
        }
    }

    private static void addCounts(
            Connection connection, String dataset, String source, String splitPolicy, Counts counts)
            throws SQLException {
        long sourceId = upsertSource(connection, dataset, source, splitPolicy);
        try (PreparedStatement add = connection.prepareStatement("""
                insert into source_count (source_id, split, outcome, records) values (?, ?, ?, ?)
                on conflict (source_id, split, outcome) do update set records = source_count.records + excluded.records""")) {
            for (Map.Entry<String, Map<String, Long>> outcome :
                    counts.byOutcomeAndSplit().entrySet()) {
                for (Map.Entry<String, Long> split : outcome.getValue().entrySet()) {
                    add.setLong(1, sourceId);
                    add.setString(2, split.getKey());
                    add.setString(3, outcome.getKey());
                    add.setLong(4, split.getValue());
                    add.addBatch();
                }
            }
            add.executeBatch();
        }
        try (PreparedStatement add = connection.prepareStatement("""
                insert into source_format (source_id, format, records) values (?, ?, ?)
                on conflict (source_id, format) do update set records = source_format.records + excluded.records""")) {
            for (Map.Entry<String, Long> format : counts.formats().entrySet()) {
                add.setLong(1, sourceId);
                add.setString(2, format.getKey());
                add.setLong(3, format.getValue());
                add.addBatch();
            }
            add.executeBatch();
        }
    }

    private static long upsertSource(Connection connection, String dataset, String source, String splitPolicy)
            throws SQLException {
        long datasetId;
        try (PreparedStatement upsert = connection.prepareStatement("""
                insert into dataset (name, created_at, last_ingest_at) values (?, now(), now())
                on conflict (name) do update set last_ingest_at = excluded.last_ingest_at returning id""")) {
            upsert.setString(1, dataset);
            datasetId = single(upsert);
        }
        try (PreparedStatement upsert = connection.prepareStatement("""
                insert into dataset_source (dataset_id, source, split_policy, first_ingest_at, last_ingest_at)
                values (?, ?, ?, now(), now())
                on conflict (dataset_id, source) do update
                set last_ingest_at = excluded.last_ingest_at, split_policy = excluded.split_policy returning id""")) {
            upsert.setLong(1, datasetId);
            upsert.setString(2, source);
            upsert.setString(3, splitPolicy);
            return single(upsert);
        }
    }

    /** Opens the ingestion's row, status running. */
    @Transactional
    public void started(UUID id, String dataset, String source, String door, String splitPolicy) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement("""
                     insert into ingestion (id, dataset, source, door, split_policy, status, started_at,
                                            records, published, rejected, duplicates, unused)
                     values (?, ?, ?, ?, ?, 'running', ?, 0, 0, 0, 0, 0)""")) {
            insert.setObject(1, id);
            insert.setString(2, dataset);
            insert.setString(3, source);
            insert.setString(4, door);
            insert.setString(5, splitPolicy);
            insert.setTimestamp(6, Timestamp.from(Instant.now()));
            insert.executeUpdate();
        }
    }

    /** Closes the ingestion's row with its final counts, and the error if it failed. */
    @Transactional
    public void finished(
            UUID id, long records, long published, long rejected, long duplicates, long unused, String error)
            throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement update = connection.prepareStatement("""
                     update ingestion set status = ?, finished_at = ?, records = ?, published = ?, rejected = ?,
                                          duplicates = ?, unused = ?, error = ? where id = ?""")) {
            update.setString(1, error == null ? "completed" : "failed");
            update.setTimestamp(2, Timestamp.from(Instant.now()));
            update.setLong(3, records);
            update.setLong(4, published);
            update.setLong(5, rejected);
            update.setLong(6, duplicates);
            update.setLong(7, unused);
            update.setString(8, error == null ? null : error.substring(0, Math.min(error.length(), 2000)));
            update.setObject(9, id);
            update.executeUpdate();
        }
    }

    private static long single(PreparedStatement statement) throws SQLException {
        try (ResultSet rows = statement.executeQuery()) {
            rows.next();
            return rows.getLong(1);
        }
    }
}
