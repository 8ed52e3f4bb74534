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

/** An input format seen in a source, and how many records were read as it. */
@Entity
@Table(name = "source_format")
public class SourceFormat extends PanacheEntityBase {

    /** bigserial: rows are written by IngestLedger's SQL, read through Panache. */
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @ManyToOne(optional = false)
    @JoinColumn(name = "source_id")
    public DatasetSource source;

    @Column(nullable = false, length = 32)
    public String format;

    @Column(nullable = false)
    public long records;
}
