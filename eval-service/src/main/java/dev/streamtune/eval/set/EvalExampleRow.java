package dev.streamtune.eval.set;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.List;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * One example of a recipe's validation or test set, kept as it came on {@code eval-examples}. {@code position} is
 * its place in the split's set (arrival order): an evaluation on n examples uses positions 0..n-1, so every
 * checkpoint and the base are scored on the same examples.
 */
@Entity
@Table(name = "eval_example")
public class EvalExampleRow extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "recipe_id")
    public String recipeId;

    @Column(name = "example_key")
    public String exampleKey;

    public String split;
    public int position;
    public String dataset;

    @Column(name = "conversation_id")
    public String conversationId;

    @Column(name = "input_ids")
    @JdbcTypeCode(SqlTypes.ARRAY)
    public int[] inputIds;

    @JdbcTypeCode(SqlTypes.ARRAY)
    public int[] labels;

    @Column(name = "prompt_tokens")
    public int promptTokens;

    @Column(name = "reference_response")
    public String referenceResponse;

    @Column(name = "received_at")
    public Instant receivedAt;

    /** The first {@code count} examples of a split's set, in their order. */
    public static List<EvalExampleRow> firstOf(String recipeId, String split, int count) {
        return find("recipeId = ?1 and split = ?2 and position < ?3 order by position", recipeId, split, count)
                .list();
    }
}
