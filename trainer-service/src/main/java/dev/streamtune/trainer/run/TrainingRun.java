package dev.streamtune.trainer.run;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.List;
import org.hibernate.annotations.DynamicUpdate;

/**
 * A run: one version of a recipe trained on its batches. Its id is the recipe id and a hash of that version.
 *
 * <p>Several threads write one run, each its own columns: the training thread its step and figures, the evaluation
 * feed its best checkpoint, the REST resources its state. Updates name only the columns a transaction changed
 * ({@link DynamicUpdate}), so one writer never puts back another's columns as it read them.
 */
@Entity
@DynamicUpdate
@Table(name = "training_run")
public class TrainingRun extends PanacheEntityBase {

    @Id
    public String id;

    @Column(name = "recipe_id")
    public String recipeId;

    @Column(name = "recipe_hash")
    public String recipeHash;

    public String method;
    public String model;

    @Enumerated(EnumType.STRING)
    public RunState state;

    public String device;
    public String dtype;
    public long step;
    /** Passes over the data so far (fractional, as Hugging Face reports it); null while the first pass is open. */
    public Double epoch;

    @Column(name = "tokens_seen")
    public long tokensSeen;

    @Column(name = "learning_rate")
    public Double learningRate;

    @Column(name = "last_loss")
    public Double lastLoss;

    @Column(name = "grad_norm")
    public Double gradNorm;

    @Column(name = "tokens_per_second")
    public Double tokensPerSecond;

    @Column(name = "max_steps")
    public Long maxSteps;

    @Column(name = "start_offsets")
    public String startOffsets;

    @Column(name = "best_step")
    public Long bestStep;

    @Column(name = "best_valid_loss")
    public Double bestValidLoss;

    public String failure;
    /**
     * Ended (STOPPED) because its recipe version was replaced or deleted rather than by a user: it trains again by
     * itself, from its newest checkpoint, when its version is active again.
     */
    public boolean retired;

    @Column(name = "created_at")
    public Instant createdAt;

    @Column(name = "updated_at")
    public Instant updatedAt;

    public static List<TrainingRun> ofRecipe(String recipeId) {
        return list("recipeId = ?1 order by createdAt desc", recipeId);
    }
}
