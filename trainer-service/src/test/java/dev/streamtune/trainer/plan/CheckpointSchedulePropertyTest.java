package dev.streamtune.trainer.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.streamtune.trainer.plan.CheckpointSchedule.Strategy;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * The checkpoint schedule against Hugging Face's Trainer: over random save and eval strategies, step counts and
 * runs (max_steps, or passes of random lengths), the steps a run checkpoints at, deciding step by step as the worker
 * does, are exactly the steps the Trainer would save or evaluate at, and the run's last step.
 */
class CheckpointSchedulePropertyTest {

    /** A run: its schedule's settings, and either max_steps or the steps each of its passes ends at. */
    record Case(
            Strategy save, int saveSteps, Strategy evaluation, int evalSteps, Integer maxSteps, List<Integer> passes) {

        long lastStep() {
            return maxSteps != null
                    ? maxSteps
                    : passes.stream().mapToLong(Integer::longValue).sum();
        }

        /** The steps at which a pass ends (none for a max_steps run, which reads its stream once). */
        List<Long> epochEnds() {
            List<Long> ends = new ArrayList<>();
            long step = 0;
            for (int length : passes) {
                step += length;
                ends.add(step);
            }
            return ends;
        }

        CheckpointSchedule schedule() {
            return new CheckpointSchedule(
                    save, saveSteps, evaluation, evalSteps, maxSteps == null ? null : maxSteps.longValue());
        }
    }

    private static Gen<Strategy> strategies() {
        return Generate.enumValues(Strategy.class);
    }

    private static Gen<Case> cases() {
        Gen<Integer> steps = integers().between(1, 12);
        Gen<List<Integer>> passes = lists().of(integers().between(1, 15)).ofSizeBetween(1, 6);
        return strategies()
                .zip(
                        steps,
                        strategies(),
                        steps,
                        (save, saveSteps, eval, evalSteps) ->
                                new Case(save, saveSteps, eval, evalSteps, null, List.of()))
                .zip(
                        booleans().all(),
                        integers().between(1, 60),
                        passes,
                        (c, byMaxSteps, maxSteps, lengths) -> byMaxSteps
                                        && c.save() != Strategy.EPOCH
                                        && c.evaluation() != Strategy.EPOCH
                                ? new Case(c.save(), c.saveSteps(), c.evaluation(), c.evalSteps(), maxSteps, List.of())
                                : new Case(c.save(), c.saveSteps(), c.evaluation(), c.evalSteps(), null, lengths));
    }

    /**
     * What the worker does: after every optimiser step {@link CheckpointSchedule#dueAt}, at the end of every pass
     * {@link CheckpointSchedule#dueAtEpochEnd} when the step is not checkpointed already, and the run's end always.
     */
    private static TreeSet<Long> worker(Case run) {
        CheckpointSchedule schedule = run.schedule();
        TreeSet<Long> checkpoints = new TreeSet<>();
        List<Long> epochEnds = run.epochEnds();
        for (long step = 1; step <= run.lastStep(); step++) {
            if (schedule.dueAt(step)) {
                checkpoints.add(step);
            }
            if (epochEnds.contains(step) && schedule.dueAtEpochEnd()) {
                checkpoints.add(step);
            }
        }
        checkpoints.add(run.lastStep());
        return checkpoints;
    }

    /**
     * transformers' DefaultFlowCallback: on_step_end evaluates when global_step % eval_steps == 0 (strategy steps)
     * and saves when global_step % save_steps == 0 (strategy steps), and at max_steps when the save strategy is
     * steps; on_epoch_end evaluates and saves for strategy epoch. Here the run's last step is checkpointed too.
     */
    private static TreeSet<Long> trainer(Case run) {
        long last = run.lastStep();
        TreeSet<Long> saved = new TreeSet<>();
        TreeSet<Long> evaluated = new TreeSet<>();
        if (run.save() == Strategy.STEPS) {
            LongStream.rangeClosed(1, last / run.saveSteps()).forEach(k -> saved.add(k * run.saveSteps()));
            saved.add(last);
        }
        if (run.evaluation() == Strategy.STEPS) {
            LongStream.rangeClosed(1, last / run.evalSteps()).forEach(k -> evaluated.add(k * run.evalSteps()));
        }
        if (run.save() == Strategy.EPOCH) {
            saved.addAll(run.epochEnds());
        }
        if (run.evaluation() == Strategy.EPOCH) {
            evaluated.addAll(run.epochEnds());
        }
        TreeSet<Long> expected = new TreeSet<>(saved);
        expected.addAll(evaluated);
        expected.add(last);
        return expected;
    }

    @Test
    void aRunCheckpointsExactlyWhereTheTrainerSavesOrEvaluates() {
        qt().withExamples(2000)
                .forAll(cases())
                .checkAssert(run -> assertThat(worker(run)).as(run.toString()).isEqualTo(trainer(run)));
    }

    @Test
    void withNeitherStrategyOnlyTheEndIsCheckpointed() {
        qt().forAll(cases()).checkAssert(run -> {
            Case neither =
                    new Case(Strategy.NO, run.saveSteps(), Strategy.NO, run.evalSteps(), run.maxSteps(), run.passes());
            assertThat(worker(neither)).containsExactly(neither.lastStep());
            assertThat(neither.schedule().periodic()).isFalse();
        });
    }

    @Test
    void stepsStrategiesCheckpointAtTheMultiplesOfEither() {
        CheckpointSchedule schedule = new CheckpointSchedule(Strategy.STEPS, 4, Strategy.STEPS, 6, 13L);
        assertThat(LongStream.rangeClosed(1, 13).filter(schedule::dueAt).boxed())
                .containsExactly(4L, 6L, 8L, 12L, 13L);
        assertThat(schedule.dueAtEpochEnd()).isFalse();

        CheckpointSchedule epochs = new CheckpointSchedule(Strategy.NO, 4, Strategy.EPOCH, 4, null);
        assertThat(LongStream.rangeClosed(1, 20).filter(epochs::dueAt)).isEmpty();
        assertThat(epochs.dueAtEpochEnd()).isTrue();
    }

    @Test
    void aStrategyIsReadAsTheRecipeWritesIt() {
        assertThat(Strategy.of(" Epoch")).isEqualTo(Strategy.EPOCH);
        assertThatThrownBy(() -> new CheckpointSchedule(Strategy.STEPS, 0, Strategy.NO, 1, null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
