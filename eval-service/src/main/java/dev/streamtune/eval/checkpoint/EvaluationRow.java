package dev.streamtune.eval.checkpoint;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * The scores of one checkpoint on one split (on the first {@code examples} of its set), or the error that kept it
 * from being scored. {@code published} turns true once the {@code Evaluation} event is acknowledged: rows not yet
 * published are sent again after a restart (an outbox), so the trainer hears of every one.
 */
@Entity
@Table(name = "evaluation")
public class EvaluationRow extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "checkpoint_id")
    public long checkpointId;

    @Column(name = "recipe_id")
    public String recipeId;

    @Column(name = "run_id")
    public String runId;

    public long step;
    public String checksum;
    public String location;
    public String split;
    public long examples;
    public long tokens;
    public Double loss;
    public Double perplexity;

    @Column(name = "token_accuracy")
    public Double tokenAccuracy;
    /** JSON object of the generation metrics (exact_match, rouge_l...). */
    @Column(name = "generation_metrics")
    public String generationMetrics;

    public String error;
    public Double seconds;

    @Column(name = "evaluated_at")
    public Instant evaluatedAt;

    public boolean published;
    /**
     * The base these scores belong to ({@code BaseIdentity.key}): the base's own scores, or a checkpoint's applied
     * to it. A checkpoint is compared with the base of the same identity on the same examples. Null for an error
     * with no base (a recipe not known here) and for scores stored before bases had identities.
     */
    @Column(name = "base_identity")
    public String baseIdentity;
}
