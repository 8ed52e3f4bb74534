package dev.streamtune.ingest.registry;

import dev.streamtune.ingest.split.SplitPolicy;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Each dataset's split, fixed by its first ingestion. A dataset fed over time by uploads, imports and the raw
 * topic is one dataset with one split: were each ingestion free to bring its own, a ratio upload could add to a
 * dataset past the caps another upload set, and what "valid" holds would depend on which door a record came through.
 */
@ApplicationScoped
public class DatasetSplits {

    private final AgroalDataSource dataSource;

    public DatasetSplits(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * The dataset's split: the one stored, or {@code proposed} when the dataset has none yet, which is then stored.
     * Two first ingestions at once settle on one of theirs: the insert and the update only write where nothing is.
     */
    @Transactional(Transactional.TxType.NOT_SUPPORTED)
    public SplitPolicy settle(String dataset, SplitPolicy proposed) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            try (PreparedStatement insert = connection.prepareStatement("""
                    insert into dataset (name, created_at, split_policy, split_seed) values (?, now(), ?, ?)
                    on conflict (name) do update set split_policy = excluded.split_policy, split_seed = excluded.split_seed
                    where dataset.split_policy is null""")) {
                insert.setString(1, dataset);
                insert.setString(2, proposed.spec());
                insert.setLong(3, proposed.seed());
                insert.executeUpdate();
            }
            try (PreparedStatement select =
                    connection.prepareStatement("select split_policy, split_seed from dataset where name = ?")) {
                select.setString(1, dataset);
                try (ResultSet row = select.executeQuery()) {
                    if (!row.next()) {
                        throw new SQLException("dataset '" + dataset + "' vanished while its split was settled");
                    }
                    return SplitPolicy.parse(row.getString(1), row.getLong(2));
                }
            }
        }
    }
}
