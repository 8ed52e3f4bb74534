package dev.streamtune.ingest.registry;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;

/** How many records of a source had one outcome in one split. */
@Entity
@Table(name = "source_count")
public class SourceCount extends PanacheEntityBase {

    /** bigserial: rows are written by IngestLedger's SQL, read through Panache. */
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @ManyToOne(optional = false)
    @JoinColumn(name = "source_id")
    public DatasetSource source;

    @Column(nullable = false, length = 8)
    public String split;

    @Column(nullable = false, length = 16)
    public String outcome;

    @Column(nullable = false)
    public long records;
}
