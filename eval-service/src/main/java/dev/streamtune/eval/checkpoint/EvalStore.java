package dev.streamtune.eval.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.eval.set.EvalExampleRow;
import dev.streamtune.eval.set.ReadPosition;
import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Split;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.narayana.jta.QuarkusTransactionException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.PersistenceException;
import jakarta.transaction.HeuristicMixedException;
import jakarta.transaction.HeuristicRollbackException;
import jakarta.transaction.RollbackException;
import jakarta.transaction.SystemException;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.common.TopicPartition;
import org.hibernate.HibernateException;

/**
 * eval-service's database, one short transaction per call (the scoring itself runs outside any): eval sets with
 * where their reading stands, checkpoints and their status, evaluations, samples, and the outbox of evaluations not
 * yet published.
 */
@ApplicationScoped
public class EvalStore {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Runs a call's work in a transaction of its own: QuarkusTransaction's in the service, a stand-in in tests. */
    @FunctionalInterface
    public interface Transactions {
        /** The work's result, the work having run in a new transaction, committed (rolled back when it failed). */
        Object requiringNew(Callable<?> work);
    }

    private final Transactions transactions;

    public EvalStore() {
        this(work -> QuarkusTransaction.requiringNew().call(work));
    }

    protected EvalStore(Transactions transactions) {
        this.transactions = transactions;
    }

    /**
     * The work in a transaction of its own. A failure of the database comes out as an
     * {@link EvalStoreUnavailableException}, so that no caller mistakes it for a problem of what it was handling
     * (a reader would dead-letter a good record and move past it); any other failure comes out as it was thrown.
     */
    @SuppressWarnings("unchecked")
    private <T> T transaction(Callable<T> work) {
        try {
            return (T) transactions.requiringNew(work);
        } catch (EvalStoreUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            if (databaseFailure(e)) {
                throw unavailable(e);
            }
            throw e;
        }
    }

    /**
     * Whether a failure came from the database rather than from the work's own code: JDBC's, JPA's and Hibernate's
     * exceptions (a connection refused, lost or terminated, a pool with no connection to give, a statement the
     * server rejected) and the transaction manager's (a commit that did not go through).
     */
    static boolean databaseFailure(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof SQLException
                    || cause instanceof PersistenceException
                    || cause instanceof HibernateException
                    || cause instanceof QuarkusTransactionException
                    || cause instanceof RollbackException
                    || cause instanceof SystemException
                    || cause instanceof HeuristicMixedException
                    || cause instanceof HeuristicRollbackException) {
                return true;
            }
        }
        return false;
    }

    /** A failure of the database met outside a transaction of this store (a REST read), said as this store says it. */
    public static EvalStoreUnavailableException unavailable(RuntimeException failure) {
        return failure instanceof EvalStoreUnavailableException unavailable
                ? unavailable
                : new EvalStoreUnavailableException("the database failed: " + describe(failure), failure);
    }

    /** The innermost message: the driver's ("This connection has been closed."), not the wrappers'. */
    private static String describe(Throwable failure) {
        String message = null;
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause.getMessage() != null) {
                message = cause.getMessage();
            }
        }
        return message != null ? message : failure.getClass().getSimpleName();
    }

    private void transaction(Runnable work) {
        transaction(() -> {
            work.run();
            return null;
        });
    }

    // --- where readers stand ------------------------------------------------------------------------------------

    public Map<Integer, Long> positions(String reader, String topic) {
        return transaction(() -> ReadPosition.of(reader, topic));
    }

    /**
     * Where a reader resumes on newly assigned partitions: the stored positions of those it has read before (the
     * others read from the consumer group's offset, or from the beginning).
     */
    public Map<TopicPartition, Long> seeks(String reader, Collection<TopicPartition> assigned) {
        Map<TopicPartition, Long> seeks = new HashMap<>();
        Map<String, Map<Integer, Long>> byTopic = new HashMap<>(); // one query per topic, not per partition
        for (TopicPartition partition : assigned) {
            Long position = byTopic.computeIfAbsent(partition.topic(), topic -> positions(reader, topic))
                    .get(partition.partition());
            if (position != null) {
                seeks.put(partition, position);
            }
        }
        return seeks;
    }

    // --- eval sets ----------------------------------------------------------------------------------------------

    /** A recipe's eval sets as stored: the keys of their examples and each split's size. */
    public record SetState(Set<String> keys, Map<Split, Integer> sizes) {}

    public SetState setState(String recipeId) {
        return transaction(() -> {
            Set<String> keys = new HashSet<>(EvalExampleRow.getEntityManager()
                    .createQuery("select e.exampleKey from EvalExampleRow e where e.recipeId = ?1", String.class)
                    .setParameter(1, recipeId)
                    .getResultList());
            return new SetState(keys, sizes(recipeId));
        });
    }

    /** Each split's size, from the database. */
    public Map<Split, Integer> sizes(String recipeId) {
        return transaction(() -> {
            Map<Split, Integer> sizes = new EnumMap<>(Split.class);
            for (Object[] row : EvalExampleRow.getEntityManager()
                    .createQuery(
                            "select e.split, count(e) from EvalExampleRow e where e.recipeId = ?1 group by e.split",
                            Object[].class)
                    .setParameter(1, recipeId)
                    .getResultList()) {
                sizes.put(Split.fromWireName((String) row[0]), ((Number) row[1]).intValue());
            }
            return sizes;
        });
    }

    /** Stores examples (their positions assigned) and where the reading of eval-examples now stands, together. */
    public void storeExamples(String recipeId, List<EvalExampleRow> rows, Map<Integer, Long> next, String topic) {
        transaction(() -> {
            rows.forEach(row -> row.persist());
            ReadPosition.advance(recipeId, topic, next);
        });
    }

    public List<EvalExampleRow> examples(String recipeId, Split split, int count) {
        return transaction(() -> EvalExampleRow.firstOf(recipeId, split.wireName(), count));
    }

    // --- checkpoints --------------------------------------------------------------------------------------------

    public boolean known(String recipeId, String checksum) {
        return transaction(() -> ScoredCheckpointRow.of(recipeId, checksum) != null);
    }

    /** Records announced checkpoints and where the reading of checkpoints now stands, together. */
    public void recordCheckpoints(
            List<ScoredCheckpointRow> rows, Map<Integer, Long> next, String reader, String topic) {
        transaction(() -> {
            for (ScoredCheckpointRow row : rows) {
                if (ScoredCheckpointRow.of(row.recipeId, row.checksum) == null) {
                    row.persist();
                }
            }
            ReadPosition.advance(reader, topic, next);
        });
    }

    /**
     * The row of a recipe's base with this identity (step 0, checksum {@link Evaluation#BASE}), made on first use:
     * a recipe version whose base differs gets a row of its own, scored afresh; one whose base is the same (only its
     * training changed) is given the row already there, with its run now the version's.
     */
    public ScoredCheckpointRow base(String recipeId, String baseIdentity, String runId, String model) {
        return transaction(() -> {
            ScoredCheckpointRow row = ScoredCheckpointRow.base(recipeId, baseIdentity);
            if (row == null) {
                row = new ScoredCheckpointRow();
                row.recipeId = recipeId;
                row.checksum = Evaluation.BASE;
                row.baseIdentity = baseIdentity;
                row.format = "base";
                row.location = model;
                row.runId = runId;
                row.step = 0;
                row.status = CheckpointStatus.PENDING;
                row.receivedAt = Instant.now();
                row.persist();
            } else if (!runId.equals(row.runId)) {
                row.runId = runId; // a new version of the recipe with the same base: the base is its run's too
            }
            return row;
        });
    }

    /** Whether the base has been scored on the first {@code examples} of a split. */
    public boolean scoredOn(long checkpointId, Split split, long examples) {
        return transaction(() -> EvaluationRow.count(
                        "checkpointId = ?1 and split = ?2 and examples = ?3", checkpointId, split.wireName(), examples)
                > 0);
    }

    /** A recipe's checkpoints (the base's row left out) with this status, newest first. */
    public List<ScoredCheckpointRow> withStatus(String recipeId, CheckpointStatus status) {
        return transaction(() -> ScoredCheckpointRow.<ScoredCheckpointRow>list(
                "recipeId = ?1 and status = ?2 and checksum <> ?3 order by step desc, id desc",
                recipeId,
                status,
                Evaluation.BASE));
    }

    /** Every checkpoint with this status whose recipe is not among {@code active}. */
    public List<ScoredCheckpointRow> outside(Set<String> active, CheckpointStatus status) {
        return transaction(() -> ScoredCheckpointRow.<ScoredCheckpointRow>list("status = ?1", status).stream()
                .filter(row -> !active.contains(row.recipeId))
                .toList());
    }

    public long count(String recipeId, CheckpointStatus status) {
        return transaction(() -> ScoredCheckpointRow.count(
                "recipeId = ?1 and status = ?2 and checksum <> ?3", recipeId, status, Evaluation.BASE));
    }

    public void status(long id, CheckpointStatus status, String detail) {
        transaction(() -> {
            ScoredCheckpointRow row = ScoredCheckpointRow.findById(id);
            row.status = status;
            if (detail != null) {
                row.detail = detail;
            }
        });
    }

    /** After a restart, what was being scored is pending again (its results were never stored). */
    public int resetScoring() {
        return transaction(() -> ScoredCheckpointRow.update(
                "status = ?1 where status = ?2", CheckpointStatus.PENDING, CheckpointStatus.SCORING));
    }

    // --- results ------------------------------------------------------------------------------------------------

    /** One split's result of a scoring, with its generations. */
    public record Result(EvaluationRow evaluation, List<SampleRow> samples) {}

    /** Stores a checkpoint's evaluations (unpublished) and marks it scored or failed. */
    public List<EvaluationRow> finish(long checkpointId, List<Result> results, CheckpointStatus status, String detail) {
        return transaction(() -> {
            for (Result result : results) {
                result.evaluation().published = false;
                result.evaluation().persist();
                for (SampleRow sample : result.samples()) {
                    sample.evaluationId = result.evaluation().id;
                    sample.persist();
                }
            }
            ScoredCheckpointRow row = ScoredCheckpointRow.findById(checkpointId);
            row.status = status;
            row.scoredAt = Instant.now();
            if (detail != null) {
                row.detail = detail;
            }
            return results.stream().map(Result::evaluation).toList();
        });
    }

    /** The outbox: evaluations stored but not yet acknowledged on the topic, oldest first. */
    public List<EvaluationRow> unpublished() {
        return transaction(() -> EvaluationRow.<EvaluationRow>list("published = false order by id"));
    }

    public void published(List<Long> ids) {
        if (!ids.isEmpty()) {
            transaction(() -> EvaluationRow.update("published = true where id in ?1", ids));
        }
    }

    // --- what the API shows -------------------------------------------------------------------------------------

    public List<EvaluationRow> evaluations(String recipeId) {
        return transaction(
                () -> EvaluationRow.<EvaluationRow>list("recipeId = ?1 order by step, split, examples, id", recipeId));
    }

    public EvaluationRow evaluation(long id) {
        return transaction(() -> EvaluationRow.<EvaluationRow>findById(id));
    }

    public List<SampleRow> samples(long evaluationId) {
        return transaction(() -> SampleRow.<SampleRow>list("evaluationId = ?1 order by id", evaluationId));
    }

    public List<ScoredCheckpointRow> checkpoints(String recipeId) {
        return transaction(
                () -> ScoredCheckpointRow.<ScoredCheckpointRow>list("recipeId = ?1 order by step, id", recipeId));
    }

    public static String json(Map<String, Double> metrics) {
        try {
            return JSON.writeValueAsString(new TreeMap<>(metrics));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Map<String, Double> metrics(String json) {
        if (json == null || json.isBlank()) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, new TypeReference<TreeMap<String, Double>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored generation metrics are not JSON: " + json, e);
        }
    }
}
