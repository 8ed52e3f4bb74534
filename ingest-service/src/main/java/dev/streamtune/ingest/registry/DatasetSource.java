package dev.streamtune.ingest.registry;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.OneToMany;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** One source of a dataset (an upload label, an imported file, the raw topic) with its counts. */
@Entity
@Table(name = "dataset_source")
public class DatasetSource extends PanacheEntityBase {

    /** bigserial: rows are written by IngestLedger's SQL, read through Panache. */
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @ManyToOne(optional = false)
    @JoinColumn(name = "dataset_id")
    public Dataset dataset;

    @Column(nullable = false, length = 500)
    public String source;

    @Column(name = "split_policy", length = 200)
    public String splitPolicy;

    @Column(name = "first_ingest_at", nullable = false)
    public Instant firstIngestAt;

    @Column(name = "last_ingest_at", nullable = false)
    public Instant lastIngestAt;

    @OneToMany(mappedBy = "source")
    public List<SourceCount> counts = new ArrayList<>();

    @OneToMany(mappedBy = "source")
    public List<SourceFormat> formats = new ArrayList<>();
}
