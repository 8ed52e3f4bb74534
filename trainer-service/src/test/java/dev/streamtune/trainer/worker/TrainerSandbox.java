package dev.streamtune.trainer.worker;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.RunIds;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.RecipeLifecycle;
import dev.streamtune.streams.RecipeStage;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.WorkerPool;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.plan.TrainingPlans;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunState;
import dev.streamtune.trainer.run.RunStoreUnavailableException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A trainer's world in one JVM, driven step by step from the test's thread: the {@code batches} topic
 * ({@link BatchLog}), the other topics (a mock producer that keeps what was published), the run store
 * ({@link InMemoryRunLedger}), the checkpoint volume (a folder), a clock the test moves, and a trainer process: the
 * real {@link RecipeLifecycle}, {@link WorkerPool} and {@link TrainWorker}s, each polling through a
 * {@link SteppedConsumer}. Killing the process ends its workers' threads where they wait, with nothing of theirs
 * run after; a new process starts from what the world kept, reading the recipes topic's latest records as a
 * restarted trainer does.
 */
final class TrainerSandbox implements AutoCloseable {

    static final Duration CHECKPOINT_WHEN_IDLE = Duration.ofSeconds(10);
    static final Duration STREAM_END_AFTER = Duration.ofSeconds(30);
    static final Duration EVALUATION_WAIT = Duration.ofHours(1);
    private static final Duration PATIENCE = Duration.ofSeconds(120);
    private static final int MAX_POLL_RECORDS = 4;

    /** The time the trainer goes by, moved by the test. */
    static final class TestClock implements RunClock {
        private long nanos = 1_000_000_000L;

        synchronized void advance(Duration by) {
            nanos += by.toNanos();
        }

        @Override
        public synchronized long nanoTime() {
            return nanos;
        }

        @Override
        public synchronized Instant now() {
            return Instant.parse("2026-12-01T00:00:00Z").plusNanos(nanos);
        }
    }

    final Path modelRoot;
    final Path checkpointRoot;
    final BatchLog log = new BatchLog();
    final InMemoryRunLedger ledger = new InMemoryRunLedger();
    final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    final TestClock clock = new TestClock();
    final TrainingPlans plans;
    /** The recipes topic: each recipe's latest record, as compaction keeps it. */
    private final Map<String, byte[]> recipesTopic = new LinkedHashMap<>();

    private long recipesOffset;
    private TrainerProcess process;

    TrainerSandbox(Path folder) throws IOException {
        this.modelRoot = TinyRecipes.modelRoot(folder.resolve("models"));
        this.checkpointRoot = folder.resolve("checkpoints");
        this.plans = new TrainingPlans(modelRoot);
        this.process = new TrainerProcess();
    }

    TrainerProcess process() {
        return process;
    }

    // --- the world's events -------------------------------------------------------------------------------------

    /** POST /recipes: the recipe is published on the recipes topic and the trainer carries it out. */
    Recipe post(String yaml) {
        Recipe recipe = RecipeParser.parse(yaml, "test.yaml").recipe();
        byte[] value = new EventSerializer<Recipe>().serialize(Topics.RECIPES, recipe);
        recipesTopic.remove(recipe.id());
        recipesTopic.put(recipe.id(), value);
        process.recipe(recipe.id(), value);
        return recipe;
    }

    /** DELETE /recipes/{id}: a tombstone. */
    void delete(String recipeId) {
        recipesTopic.remove(recipeId);
        recipesTopic.put(recipeId, null);
        process.recipe(recipeId, null);
    }

    /** {@code count} batches of the recipe, numbered on from {@code first}, arrive on the topic. */
    void arrive(String recipeId, int first, int count) {
        for (int i = first; i < first + count; i++) {
            log.append(
                    recipeId,
                    new EventSerializer<TrainBatch>().serialize(Topics.BATCHES, TinyRecipes.batch(recipeId, i)));
        }
    }

    /** The process dies (SIGKILL) and a new one starts on the same world. */
    void killAndRestart() {
        process.kill();
        process = new TrainerProcess();
        recipesTopic.forEach(process::recipe);
    }

    /**
     * An evaluation of a checkpoint arrives on {@code evaluations} and the trainer's feed handles it: recorded, then
     * judged by the run's worker when this process trains it. A store failure is retried, as the feed reads the
     * topic again.
     */
    void evaluation(String runId, long step, Double validLoss) {
        while (true) {
            try {
                List<EarlyStopping.Score> scores = ledger.evaluation(runId, step, "valid", validLoss);
                TrainWorker worker = process.worker(runId);
                if (worker != null) {
                    if (validLoss == null) {
                        worker.evaluationArrived();
                    } else {
                        worker.judge(scores);
                    }
                }
                return;
            } catch (RunStoreUnavailableException e) {
                // the feed's reading fails and begins anew: the same evaluation is handled again
            }
        }
    }

    /** POST /runs/{id}/stop. */
    boolean stop(String runId) {
        TrainWorker worker = process.worker(runId);
        if (worker == null) {
            return false;
        }
        worker.requestStop();
        return true;
    }

    /** POST /runs/{id}/resume, as the resource and the stage do it: STARTING, and a new worker for the recipe. */
    boolean resume(String runId) {
        InMemoryRunLedger.Run run = ledger.run(runId);
        if (run == null || run.row.state.trains()) {
            return false;
        }
        TrainWorker worker = process.worker(runId);
        if (worker == null) {
            return false; // its recipe is at another version, or deleted
        }
        ledger.transition(runId, RunState.STARTING, "resumed on request");
        process.restart(worker.recipeId());
        return true;
    }

    /** The dead letters published so far. */
    List<String> deadLetters() {
        return producer.history().stream()
                .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                .map(r -> new String(r.value(), StandardCharsets.UTF_8))
                .toList();
    }

    static String runId(Recipe recipe) {
        return RunIds.of(recipe.id(), RunIds.hash(recipe));
    }

    @Override
    public void close() {
        process.kill();
    }

    // --- a trainer process --------------------------------------------------------------------------------------

    /** A trainer process: its recipe lifecycle, worker pool, metrics, and the gates of its workers' polls. */
    final class TrainerProcess {
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final TrainerMetrics metrics = new TrainerMetrics(registry);
        final WorkerPool<TrainWorker> pool = new WorkerPool<>("train");
        private final Map<TrainWorker, Driven> driven = new LinkedHashMap<>();
        private final StageContext lifecycleContext = new StageContext(
                "trainer-service",
                "train",
                KafkaSettings.bootstrap("localhost:1"),
                new AcknowledgedPublisher(producer, Duration.ofSeconds(5)),
                config -> {
                    throw new IllegalStateException("the recipes topic is handed to the lifecycle by the test");
                },
                Duration.ZERO);
        private final RecipeLifecycle<TrainWorker> lifecycle =
                new RecipeLifecycle<>(lifecycleContext, new Stage(), pool);

        /** A worker and the gate its polls meet the test at. */
        final class Driven implements SteppedConsumer.RecipeStreamWorkerHandle {
            final TrainWorker worker;
            final SteppedConsumer.Gate gate = new SteppedConsumer.Gate(PATIENCE);
            private boolean waiting;
            private long since = System.nanoTime();

            Driven(TrainWorker worker) {
                this.worker = worker;
            }

            @Override
            public boolean ended() {
                try {
                    return worker.awaitStopped(Duration.ZERO);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return true;
                }
            }

            @Override
            public void checkPatience(Duration patience) {
                if (System.nanoTime() - since > patience.toNanos()) {
                    throw new AssertionError("the worker of run " + worker.runId() + " has not come back to poll in "
                            + patience + ": " + worker.workerState());
                }
            }

            /** Waits for the worker's first poll (or its end). */
            boolean arrive() {
                since = System.nanoTime();
                waiting = gate.awaitPoll(this);
                return waiting;
            }

            /** One poll; false when the worker ended instead of polling again. */
            boolean pollOnce() {
                since = System.nanoTime();
                waiting = gate.poll(this);
                return waiting;
            }
        }

        /** What TrainerStage does for a recipe: a plan, a run id, a worker; here with the test's consumers. */
        private final class Stage implements RecipeStage<TrainWorker> {
            @Override
            public TrainWorker workerFor(Recipe recipe, StageContext context) {
                TrainingPlan plan = plans.of(recipe);
                String hash = RunIds.hash(recipe);
                Driven[] handle = new Driven[1];
                StageContext stepped = new StageContext(
                        "trainer-service",
                        "train",
                        context.kafka(),
                        context.publisher(),
                        config -> new SteppedConsumer(
                                log, (String) config.get("group.id"), MAX_POLL_RECORDS, handle[0].gate),
                        Duration.ZERO);
                TrainWorker worker = new TrainWorker(
                        stepped,
                        plan,
                        RunIds.of(recipe.id(), hash),
                        hash,
                        ledger,
                        metrics,
                        new TrainWorker.Settings(
                                checkpointRoot, CHECKPOINT_WHEN_IDLE, STREAM_END_AFTER, EVALUATION_WAIT, clock),
                        () -> "topic-batches");
                handle[0] = new Driven(worker);
                driven.put(worker, handle[0]);
                return worker;
            }

            @Override
            public String describe(TrainWorker worker) {
                return "training run " + worker.runId();
            }
        }

        /** A record of the recipes topic reaches this process's lifecycle; the workers it starts reach their poll. */
        void recipe(String recipeId, byte[] value) {
            List<TrainWorker> before = List.copyOf(pool.all().values());
            lifecycle.apply(new ConsumerRecord<>(Topics.RECIPES, 0, recipesOffset++, recipeId, value));
            settle(before);
        }

        /** A stopped or failed run resumed: a new worker for its recipe, the old one stopped first. */
        void restart(String recipeId) {
            List<TrainWorker> before = List.copyOf(pool.all().values());
            TrainWorker current = pool.get(recipeId);
            pool.start(new Stage().workerFor(recipeOf(current), lifecycleContext));
            settle(before);
        }

        private Recipe recipeOf(TrainWorker worker) {
            return worker.plan().recipe();
        }

        /** Workers that left the pool have ended; new ones have reached their first poll. */
        private void settle(List<TrainWorker> before) {
            for (TrainWorker gone : before) {
                if (pool.get(gone.recipeId()) != gone) {
                    awaitEnd(gone);
                }
            }
            for (TrainWorker worker : pool.all().values()) {
                Driven handle = driven.get(worker);
                if (!before.contains(worker) && handle != null) {
                    handle.arrive();
                }
            }
        }

        private void awaitEnd(TrainWorker worker) {
            try {
                if (!worker.awaitStopped(PATIENCE)) {
                    throw new AssertionError("run " + worker.runId() + "'s worker did not end within " + PATIENCE);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            driven.remove(worker);
        }

        /**
         * Polls every worker until two polls in a row bring nothing (the second lets a replay that the first's
         * idle time began come in): everything on the topic that the runs can take is handled.
         */
        void drive() {
            for (TrainWorker worker : List.copyOf(pool.all().values())) {
                Driven handle = driven.get(worker);
                if (handle == null || !handle.waiting) {
                    continue;
                }
                int empty = 0;
                for (int polls = 0; empty < 2; polls++) {
                    if (polls > 10_000) {
                        throw new AssertionError("run " + worker.runId() + " keeps polling records: " + polls);
                    }
                    if (!handle.pollOnce()) {
                        break;
                    }
                    empty = handle.gate.lastDelivered() > 0 ? 0 : empty + 1;
                }
            }
        }

        /** One poll of the worker training {@code runId}. */
        void pollOnce(String runId) {
            driven.get(worker(runId)).pollOnce();
        }

        /** The worker training {@code runId} in this process, or null. */
        TrainWorker worker(String runId) {
            return pool.all().values().stream()
                    .filter(w -> w.runId().equals(runId))
                    .findFirst()
                    .orElse(null);
        }

        List<TrainWorker> workers() {
            return new ArrayList<>(pool.all().values());
        }

        /** SIGKILL: every worker's thread ends where it waits; nothing is stopped, closed or recorded. */
        void kill() {
            for (Driven handle : List.copyOf(driven.values())) {
                if (handle.waiting && !handle.ended()) {
                    handle.gate.kill();
                }
            }
            for (TrainWorker worker : List.copyOf(driven.keySet())) {
                awaitEnd(worker);
            }
        }
    }
}
