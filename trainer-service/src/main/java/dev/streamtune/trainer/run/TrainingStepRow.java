package dev.streamtune.trainer.run;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * One optimiser step of a run: its loss curve. A step trained again after a resume replaces its row, with the same
 * values when the resume is exact.
 */
@Entity
@Table(name = "training_step")
public class TrainingStepRow extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "run_id")
    public String runId;

    public long step;
    public double loss;

    @Column(name = "learning_rate")
    public double learningRate;

    @Column(name = "grad_norm")
    public double gradNorm;

    @Column(name = "trained_tokens")
    public long trainedTokens;

    public double seconds;
    public Instant at;
}
