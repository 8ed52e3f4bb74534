package dev.streamtune.eval.checkpoint;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One generation of an evaluation: the prompt, the reference response and what the model wrote. */
@Entity
@Table(name = "evaluation_sample")
public class SampleRow extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "evaluation_id")
    public long evaluationId;

    @Column(name = "example_key")
    public String exampleKey;

    public String prompt;
    public String reference;
    public String generation;
    public String finish;

    @Column(name = "generated_tokens")
    public int generatedTokens;

    @Column(name = "reference_tokens")
    public Integer referenceTokens;

    @Column(name = "exact_match")
    public Boolean exactMatch;

    @Column(name = "rouge_l")
    public Double rougeL;

    @Column(name = "token_reduction")
    public Double tokenReduction;
}
