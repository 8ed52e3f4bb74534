package dev.streamtune.trainer.run;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A checkpoint a run wrote, and what became of it (available, deleted by save_total_limit, found corrupt). */
@Entity
@Table(name = "checkpoint")
public class SavedCheckpointRow extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "run_id")
    public String runId;

    public long step;
    public String location;
    public String format;
    public String checksum;

    @Column(name = "tokens_seen")
    public long tokensSeen;

    @Column(name = "train_loss")
    public double trainLoss;

    @Column(name = "consumed_offsets")
    public String consumedOffsets;

    @Column(name = "start_offsets")
    public String startOffsets;
    /** Per partition, the offset below which every batch of the run was trained at least once: lineage's end. */
    @Column(name = "trained_offsets")
    public String trainedOffsets;

    @Enumerated(EnumType.STRING)
    public SavedCheckpointStatus status;

    public boolean published;

    @Column(name = "created_at")
    public Instant createdAt;
}
