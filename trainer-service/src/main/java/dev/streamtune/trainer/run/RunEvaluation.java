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
 * An evaluation of one of a run's checkpoints on one split, as eval-service published it: its figures, or the error
 * that kept eval-service from scoring the checkpoint (figures null).
 */
@Entity
@Table(name = "run_evaluation")
public class RunEvaluation extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "run_id")
    public String runId;

    public long step;
    public String split;
    public Double loss;
    public Double perplexity;

    @Column(name = "token_accuracy")
    public Double tokenAccuracy;

    @Column(name = "evaluated_at")
    public Instant evaluatedAt;

    public String error;
}
