package dev.streamtune.trainer.run;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A batch a run read but could not train (it became a dead letter): lineage leaves it out. */
@Entity
@Table(name = "rejected_batch")
public class RejectedBatch extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "run_id")
    public String runId;

    @Column(name = "partition_no")
    public int partition;

    @Column(name = "offset_no")
    public long offset;

    public String reason;
    public Instant at;
}
