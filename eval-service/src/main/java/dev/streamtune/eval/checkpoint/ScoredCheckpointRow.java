package dev.streamtune.eval.checkpoint;

import dev.streamtune.events.Evaluation;
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

/**
 * A checkpoint the evaluator was told of, once per (recipe, checksum): a redelivered announcement finds its row and
 * is not scored again. A base model of a recipe is a row with checksum {@code base} and step 0, one per
 * {@linkplain dev.streamtune.eval.score.BaseIdentity base identity}: a recipe version that changes the model,
 * tokenizer, quantisation, template or generation settings has a base of its own.
 */
@Entity
@Table(name = "checkpoint")
public class ScoredCheckpointRow extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "recipe_id")
    public String recipeId;

    @Column(name = "run_id")
    public String runId;

    public long step;
    public String location;
    public String format;
    public String checksum;

    @Column(name = "tokens_seen")
    public Long tokensSeen;

    @Column(name = "train_loss")
    public Double trainLoss;

    @Enumerated(EnumType.STRING)
    public CheckpointStatus status;

    public String detail;

    @Column(name = "received_at")
    public Instant receivedAt;

    @Column(name = "scored_at")
    public Instant scoredAt;
    /**
     * For a base's row, which base it is ({@code BaseIdentity.key}); null for a checkpoint, whose evaluations each
     * name the base they were scored over, and for a base scored before bases had identities.
     */
    @Column(name = "base_identity")
    public String baseIdentity;

    public boolean base() {
        return Evaluation.BASE.equals(checksum);
    }

    public static ScoredCheckpointRow of(String recipeId, String checksum) {
        return find("recipeId = ?1 and checksum = ?2", recipeId, checksum).firstResult();
    }

    /** The recipe's base with this identity, or null when it has none yet. */
    public static ScoredCheckpointRow base(String recipeId, String baseIdentity) {
        return find("recipeId = ?1 and checksum = ?2 and baseIdentity = ?3", recipeId, Evaluation.BASE, baseIdentity)
                .firstResult();
    }
}
