package dev.streamtune.ingest.registry;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.OneToMany;
import jakarta.persistence.OrderBy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A dataset in the registry. */
@Entity
public class Dataset extends PanacheEntityBase {

    /** bigserial: rows are written by IngestLedger's SQL, read through Panache. */
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, unique = true, length = 200)
    public String name;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "last_ingest_at")
    public Instant lastIngestAt;

    /** The dataset's split without its seed ({@code sizes:8/2/0}, {@code 0.9/0.1/0.0}); see DatasetSplits. */
    @Column(name = "split_policy", length = 200)
    public String splitPolicy;

    @Column(name = "split_seed")
    public Long splitSeed;

    @OneToMany(mappedBy = "dataset")
    @OrderBy("source")
    public List<DatasetSource> sources = new ArrayList<>();

    public static Optional<Dataset> findByName(String name) {
        return find("name", name).firstResultOptional();
    }
}
