package dev.streamtune.ingest.registry;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** One upload or import and its outcome. */
@Entity
@Table(name = "ingestion")
public class IngestionRecord extends PanacheEntityBase {

    @Id
    public UUID id;

    @Column(nullable = false, length = 200)
    public String dataset;

    @Column(nullable = false, length = 500)
    public String source;

    @Column(nullable = false, length = 16)
    public String door;

    @Column(name = "split_policy", length = 200)
    public String splitPolicy;

    @Column(nullable = false, length = 16)
    public String status;

    @Column(name = "started_at", nullable = false)
    public Instant startedAt;

    @Column(name = "finished_at")
    public Instant finishedAt;

    @Column(nullable = false)
    public long records;

    @Column(nullable = false)
    public long published;

    @Column(nullable = false)
    public long rejected;

    @Column(nullable = false)
    public long duplicates;

    @Column(nullable = false)
    public long unused;

    @Column(length = 2000)
    public String error;

    public static List<IngestionRecord> recent(String dataset, int limit) {
        return find("dataset = ?1 order by startedAt desc", dataset)
                .page(0, limit)
                .list();
    }
}
