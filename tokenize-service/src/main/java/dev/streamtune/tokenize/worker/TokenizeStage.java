package dev.streamtune.tokenize.worker;

import dev.streamtune.events.Recipe;
import dev.streamtune.lm.tokenizer.Tokenizers;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.RecipeRejectedException;
import dev.streamtune.streams.RecipeStage;
import dev.streamtune.streams.RecipeStreamWorker;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageCounts;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.streams.StageWiring;
import dev.streamtune.streams.WorkerState;
import dev.streamtune.tokenize.config.TokenizeConfig;
import dev.streamtune.tokenize.recipe.RecipeSplit;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.TreeMap;

/**
 * tokenize-service on the stage framework: a tokenizing worker per active recipe, reading {@code examples} in the
 * recipe's own consumer group. A recipe whose tokenizer cannot be loaded, or whose largest batch would not fit in
 * one Kafka record, becomes a dead letter naming the field.
 */
@ApplicationScoped
public class TokenizeStage implements RecipeStage<TokenizeWorker> {

    static final String SERVICE = "tokenize-service";
    static final String STAGE = "tokenize";

    private final StageWiring<TokenizeWorker> wiring;
    private final TokenizeMetrics metrics;
    private final TokenizeConfig config;

    private Tokenizers tokenizers;

    public TokenizeStage(
            MeterRegistry registry,
            @Identifier("default-kafka-broker") Map<String, Object> kafka,
            TokenizeMetrics metrics,
            TokenizeConfig config) {
        this.wiring = new StageWiring<>(SERVICE, STAGE, registry, kafka);
        this.metrics = metrics;
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        tokenizers = new Tokenizers(config.modelRoot());
        wiring.start(config.publishTimeout(), this);
    }

    void onStop(@Observes ShutdownEvent event) {
        wiring.stop();
    }

    @Override
    public TokenizeWorker workerFor(Recipe recipe, StageContext context) {
        TokenizePlan plan;
        try {
            plan = TokenizePlan.of(recipe, tokenizers);
        } catch (RuntimeException e) {
            throw new RecipeRejectedException("model_config", e.getMessage(), e);
        }
        plan.requireBatchesFit(context.publisher().maxRecordSize());
        return new TokenizeWorker(context, plan, metrics, config.flushAfter(), config.dedupHorizon());
    }

    @Override
    public String describe(TokenizeWorker worker) {
        TokenizePlan plan = worker.plan();
        return "tokenizing examples of recipe " + plan.id() + " with "
                + plan.tokenizer().name() + " (max_seq_length "
                + plan.maxSeqLength() + ", packing " + plan.packing() + ", truncation " + plan.truncation()
                + ", mix " + (plan.mixWeights().isEmpty() ? "none" : plan.mixWeights()) + ", train_size "
                + (plan.trainSize() == null ? "all" : plan.trainSize()) + ", own split "
                + RecipeSplit.of(plan.recipe()) + ")";
    }

    public StageRuntime<TokenizeWorker> runtime() {
        return wiring.runtime();
    }

    public KafkaSettings kafka() {
        return runtime().context().kafka();
    }

    /** The plan of an active recipe, or null. */
    public TokenizePlan plan(String recipeId) {
        TokenizeWorker worker = runtime().worker(recipeId);
        return worker == null ? null : worker.plan();
    }

    public Map<String, Status> status() {
        Map<String, Status> status = new TreeMap<>();
        runtime().workers().forEach((id, worker) -> {
            StageCounts counts = worker.counts();
            TokenizePlan plan = worker.plan();
            WorkerState state = worker.workerState();
            long train = counts.total(TokenizeWorker.TRAIN);
            long eval = counts.total(TokenizeWorker.EVAL);
            long rejected = counts.total(RecipeStreamWorker.REJECTED);
            long duplicates = counts.total(TokenizeWorker.DUPLICATE);
            long skipped = counts.total(TokenizeWorker.SKIPPED);
            long beyondTrainSize = counts.total(TokenizeWorker.BEYOND_TRAIN_SIZE);
            status.put(
                    id,
                    new Status(
                            id,
                            plan.tokenizer().name(),
                            plan.maxSeqLength(),
                            plan.packing(),
                            plan.rowsPerBatch(),
                            train + eval + rejected + duplicates + skipped + beyondTrainSize,
                            train,
                            eval,
                            rejected,
                            duplicates,
                            skipped,
                            beyondTrainSize,
                            counts.total(TokenizeWorker.BATCHES),
                            counts.total(TokenizeWorker.BATCHED_EXAMPLES),
                            state.state().name().toLowerCase(),
                            state.failure(),
                            state.lag()));
        });
        return status;
    }

    /** A recipe's tokenizing: read = train + eval + rejected + duplicates + skipped + beyond_train_size. */
    public record Status(
            String recipeId,
            String tokenizer,
            int maxSeqLength,
            boolean packing,
            int rowsPerBatch,
            long read,
            long train,
            long eval,
            long rejected,
            long duplicates,
            long skipped,
            long beyondTrainSize,
            long batches,
            long batchedExamples,
            String state,
            String failure,
            long lag) {}
}
