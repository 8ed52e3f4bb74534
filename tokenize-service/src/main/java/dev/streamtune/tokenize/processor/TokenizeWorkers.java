package dev.streamtune.tokenize.processor;

import dev.streamtune.streams.WorkerPool;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** One {@link TokenizeWorker} thread per active recipe, started, replaced and stopped as recipes come and go. */
@ApplicationScoped
public class TokenizeWorkers {

    private static final Logger LOG = Logger.getLogger(TokenizeWorkers.class);

    @Inject
    TokenizePublisher publisher;

    @Inject
    TokenizeMetrics metrics;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "tokenize.flush-after", defaultValue = "PT5S")
    Duration flushAfter;

    @ConfigProperty(name = "tokenize.publish-timeout", defaultValue = "PT60S")
    Duration publishTimeout;

    private final WorkerPool<TokenizeWorker> workers = new WorkerPool<>("tokenize");

    public void start(TokenizePlan plan) {
        workers.start(new TokenizeWorker(plan, bootstrapServers, publisher, metrics, flushAfter, publishTimeout));
        LOG.infof("tokenizing examples of recipe %s with %s (max_seq_length %d, packing %s, truncation %s, mix %s)",
                plan.id(), plan.tokenizer().name(), plan.maxSeqLength(), plan.packing(), plan.truncation(),
                plan.mixWeights().isEmpty() ? "none" : plan.mixWeights());
    }

    public void stop(String recipeId) {
        workers.stop(recipeId);
    }

    /** The plan of an active recipe, or null. */
    public TokenizePlan plan(String recipeId) {
        TokenizeWorker worker = workers.get(recipeId);
        return worker == null ? null : worker.plan();
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Map<String, Status> status() {
        Map<String, Status> status = new TreeMap<>();
        workers.all().forEach((id, worker) -> {
            TokenizeWorker.Counts counts = worker.counts();
            TokenizePlan plan = worker.plan();
            Throwable failure = worker.failure();
            status.put(id, new Status(id, plan.tokenizer().name(), plan.maxSeqLength(), plan.packing(), plan.rowsPerBatch(),
                    counts.read.get(), counts.train.get(), counts.eval.get(), counts.rejected.get(),
                    counts.duplicates.get(), counts.skipped.get(), counts.batches.get(), counts.batchedExamples.get(),
                    failure == null ? null : failure.getMessage()));
        });
        return status;
    }

    /** A recipe's tokenizing: read = train + eval + rejected + duplicates + skipped. */
    public record Status(String recipeId, String tokenizer, int maxSeqLength, boolean packing, int rowsPerBatch,
                         long read, long train,
                         long eval, long rejected, long duplicates, long skipped, long batches, long batchedExamples,
                         String failure) {
    }

    void onStop(@Observes ShutdownEvent event) {
        workers.stopAll();
    }
}
