package dev.streamtune.trainer.worker;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.streamtune.trainer.worker.TinyRecipes.Method;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.QuickTheory;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * A training run's life under random orders of events, checked after every event against a simple model of what
 * should have happened. Each sequence drives the real {@link TrainWorker}, stage framework, training session and
 * checkpoint files ({@link TrainerSandbox}) on a tiny Llama through events users and operators cause: batches arrive
 * (with the run store failing once, a call or a step's row written behind the training thread, or not), the stream goes quiet, a stop, a resume, the recipe replaced (same or
 * changed model), deleted, posted again, the trainer killed (while idle, mid-stream, mid-replay) and restarted,
 * evaluations arriving (better or worse), the wait for evaluations running out; over recipes drawn from LoRA, JoLA
 * and full fine-tuning, max_steps, epochs (a first pass that trains, or one that counts), a stream, a continuous
 * run, accumulation, save_steps, save_total_limit and early stopping. After every event:
 *
 * <ul>
 *   <li>every run is in the state the model says, at the step it says (a RUNNING run has trained everything the
 *       topic holds for it; a FINISHED one its planned steps, unless early stopping ended it);</li>
 *   <li>every step's loss is the loss of an uninterrupted run trained on the batches the model says, in order, each
 *       once per pass (a reference session trained alongside), and its rate the schedule's formula;</li>
 *   <li>a run not RUNNING holds no model, a RUNNING one has a worker holding its own, and the gauge agrees;</li>
 *   <li>nothing was dead-lettered (the run store's failures included), the best checkpoint is on disk, every
 *       checkpoint on disk verifies, and none was rotated away before its evaluation arrived or its wait ran out.</li>
 * </ul>
 *
 * <p>{@code -Dstreamtune.lifecycle.sequences=N} runs more sequences than the suite's 200; a failure is shrunk to a
 * short sequence and reported with its seed, which {@code -Dstreamtune.lifecycle.seed=S} replays. QuickTheories,
 * not jqwik: jqwik 1.10 prints with every run a request that its results be disregarded, which no CI log of ours
 * should carry; QuickTheories' generators shrink a failing list of events and replay it from its seed.
 */
class TrainWorkerLifecycleTest {

    private static final int SEQUENCES = Integer.getInteger("streamtune.lifecycle.sequences", 200);
    private static final String RECIPE = "life";

    static String recipeId() {
        return RECIPE;
    }

    @TempDir
    Path folder;

    @Test
    void everyOrderOfEventsLeavesEveryRunAsTheModelSays() {
        QuickTheory theory = qt().withExamples(SEQUENCES)
                .withShrinkCycles(Integer.getInteger("streamtune.lifecycle.shrinks", 40))
                .withUnlimitedTestingTime();
        Long seed = Long.getLong("streamtune.lifecycle.seed");
        if (seed != null) {
            theory = theory.withFixedSeed(seed);
        }
        theory.forAll(scenarios()).checkAssert(this::play);
    }

    // --- what is drawn --------------------------------------------------------------------------------------------

    /** How a recipe's length is given. */
    enum Length {
        MAX_STEPS("max_steps: 6", "lr_scheduler_type: cosine\nwarmup_steps: 1\n"),
        EPOCHS("num_train_epochs: 3", "lr_scheduler_type: constant_with_warmup\nwarmup_steps: 1\n"),
        /** epochs with a decaying schedule: the first pass counts, every pass trains once the length is known */
        EPOCHS_COUNTED("num_train_epochs: 2", "lr_scheduler_type: cosine\n"),
        STREAM("", "lr_scheduler_type: constant_with_warmup\nwarmup_steps: 1\n"),
        CONTINUOUS(
                "max_steps: 4",
                "continuous: true\nlr_scheduler_type: cosine_with_min_lr\n" + "lr_scheduler_kwargs: {min_lr: 0.001}\n");

        final String key;
        final String schedule;

        Length(String key, String schedule) {
            this.key = key;
            this.schedule = schedule;
        }

        boolean epochs() {
            return this == EPOCHS || this == EPOCHS_COUNTED;
        }
    }

    record Config(
            Method method, Length length, int accumulation, int saveSteps, Integer saveTotalLimit, Integer patience) {

        String recipe(int version, boolean changedModel) {
            String training = length.schedule + "gradient_accumulation_steps: " + accumulation + "\nsave_steps: "
                    + saveSteps + "\n" + (saveTotalLimit == null ? "" : "save_total_limit: " + saveTotalLimit + "\n")
                    + (patience == null ? "" : "early_stopping_patience: " + patience + "\n");
            return TinyRecipes.recipe(
                    RECIPE, method, changedModel ? 24 : 16, 2e-2 / (version + 1), length.key, training);
        }
    }

    /** What happens to a run, as users and operators make it happen. */
    sealed interface Event {}

    /** How the run store fails while batches are trained. */
    enum DatabaseFault {
        NONE,
        /** the next call fails, whichever it is */
        CALL,
        /** the next step's row is lost behind the training thread, the failure reported later */
        STEP_ROW
    }

    /** Batches of the recipe arrive; the run store fails once on the way unless {@code fault} is NONE. */
    record Arrive(int batches, DatabaseFault fault) implements Event {}

    /** The stream is quiet for {@code seconds} (a checkpoint when idle; the end of a first pass at 30 s). */
    record Quiet(int seconds) implements Event {}

    record Stop() implements Event {}

    record Resume() implements Event {}

    /** A new version of the recipe: another learning rate, or another model. */
    record Replace(boolean changedModel) implements Event {}

    record Delete() implements Event {}

    /** The first version of the recipe posted again. */
    record Repost() implements Event {}

    /**
     * The trainer is killed, then restarted, after what is pending (batches arrived, a quiet stream) has been polled
     * {@code polls} times, or, {@code afterCheckpoint}, right after the next checkpoint those polls write.
     */
    record Kill(int polls, int pendingBatches, boolean pendingQuiet, boolean afterCheckpoint) implements Event {}

    /** An evaluation of the newest checkpoint not yet evaluated, better or worse than the best so far. */
    record Evaluate(boolean better) implements Event {}

    /** The wait for evaluations runs out. */
    record WaitOutEvaluations() implements Event {}

    record Scenario(Config config, List<Event> events) {}

    private static Gen<Scenario> scenarios() {
        Gen<Config> configs = Generate.enumValues(Method.class)
                .zip(
                        Generate.enumValues(Length.class),
                        integers().between(1, 3),
                        integers().between(1, 4),
                        integers().between(0, 2),
                        (method, length, accumulation, saveSteps, limit) ->
                                new Object[] {method, length, accumulation, saveSteps, limit})
                .zip(
                        integers().between(0, 2),
                        (a, patience) -> new Config(
                                (Method) a[0],
                                (Length) a[1],
                                (Integer) a[2],
                                (Integer) a[3],
                                (Integer) a[4] == 0 ? null : (Integer) a[4],
                                patience == 0 ? null : patience));
        return configs.zip(lists().of(events()).ofSizeBetween(1, 14), Scenario::new);
    }

    private static Gen<Event> events() {
        return Generate.frequency(List.of(
                Pair.of(8, integers().between(1, 5).zip(Generate.enumValues(DatabaseFault.class), (n, fault) ->
                        (Event) new Arrive(n, n > 2 ? fault : DatabaseFault.NONE))),
                Pair.of(3, Generate.pick(List.of(10, 30)).map(s -> (Event) new Quiet(s))),
                Pair.of(2, Generate.constant((Event) new Stop())),
                Pair.of(2, Generate.constant((Event) new Resume())),
                Pair.of(2, Generate.booleans().map(changed -> (Event) new Replace(changed))),
                Pair.of(1, Generate.constant((Event) new Delete())),
                Pair.of(1, Generate.constant((Event) new Repost())),
                Pair.of(
                        4,
                        integers()
                                .between(0, 4)
                                .zip(
                                        integers().between(0, 4),
                                        Generate.booleans(),
                                        Generate.booleans(),
                                        (polls, batches, quiet, checkpoint) ->
                                                (Event) new Kill(polls, batches, quiet, checkpoint))),
                Pair.of(3, Generate.booleans().map(better -> (Event) new Evaluate(better))),
                Pair.of(1, Generate.constant((Event) new WaitOutEvaluations()))));
    }

    // --- playing a scenario ---------------------------------------------------------------------------------------

    private void play(Scenario scenario) {
        Path world;
        try {
            world = Files.createTempDirectory(folder, "sequence");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LifecycleModel model = null;
        try (TrainerSandbox sandbox = new TrainerSandbox(world)) {
            model = new LifecycleModel(scenario.config(), sandbox);
            model.post(0, false);
            model.check("after the first version was posted");
            int index = 0;
            for (Event event : scenario.events()) {
                model.apply(event);
                model.check("after event " + index++ + ", " + event);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (model != null) {
                model.close();
            }
            delete(world);
        }
    }

    private static void delete(Path world) {
        try (Stream<Path> walk = Files.walk(world)) {
            walk.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
