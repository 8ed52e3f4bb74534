package dev.streamtune.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.lm.jola.GateSchedule;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.LearningRateSchedule;
import dev.streamtune.testing.SharedData;
import dev.streamtune.trainer.StoriesRecipes;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.plan.TrainingPlans;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on stories260K with real text, without Kafka: LoRA, JoLA, and both on a 4-bit base. */
class TrainingSessionTest {

    @TempDir
    Path folder;

    private static TrainingPlan plan(String yaml) {
        return new TrainingPlans(SharedData.models())
                .of(RecipeParser.parse(yaml, "test").recipe());
    }

    private static List<BatchTensors> tensors(List<TrainBatch> batches) {
        return batches.stream().map(b -> BatchTensors.of(b, 512, 512)).toList();
    }

    private static List<TrainBatch> batches(int count, int rows) throws Exception {
        return StoryBatches.make(SharedData.models().resolve("stories260K/tok512.bin"), "r", count, rows, 64);
    }

    /**
     * Two micro-batches accumulated into one optimiser step give the gradient, loss and update of one micro-batch
     * holding both: the step's loss is the mean over all its trained tokens, not a mean of the two batches' means
     * (the batches here hold different numbers of trained tokens, so the two would differ). The gradient norm is
     * the sharp check: AdamW's first update is nearly blind to the gradient's scale.
     */
    @Test
    void accumulatedMicroBatchesAreNormalisedOverTheStepsTrainedTokens() throws Exception {
        accumulationEqualsOneMergedBatch(StoriesRecipes.lora("acc", 4, 4).replace("  lora_dropout: 0.1\n", ""));
    }

    /**
     * loss_normalization: sequence. Every sequence weighs the same, and the step divides by its sequences: two
     * accumulated micro-batches still equal one holding both, and the step's loss is not the token mean (the
     * sequences' lengths differ).
     */
    @Test
    void perSequenceNormalisationSpansTheWholeStepToo() throws Exception {
        String tokens = StoriesRecipes.lora("acc", 4, 4).replace("  lora_dropout: 0.1\n", "");
        String sequences = tokens.replace("  seed: 7\n", "  seed: 7\n  loss_normalization: sequence\n");
        assertThat(plan(sequences).normalisesPerSequence()).isTrue();
        double perSequence = accumulationEqualsOneMergedBatch(sequences);
        double perToken = accumulationEqualsOneMergedBatch(tokens);
        assertThat(perSequence).isNotCloseTo(perToken, Percentage.withPercentage(0.1));
    }

    /** Trains two micro-batches into one step and, separately, one micro-batch holding both; returns the loss. */
    private double accumulationEqualsOneMergedBatch(String base) throws Exception {
        TrainingPlan accumulated = plan(base);
        TrainingPlan whole = plan(base.replace("gradient_accumulation_steps: 2", "gradient_accumulation_steps: 1"));
        List<TrainBatch> two = batches(2, 1);
        assertThat(two.get(0).trainableTokens()).isNotEqualTo(two.get(1).trainableTokens());
        List<PackedSequence> both = new ArrayList<>(two.get(0).sequences());
        both.addAll(two.get(1).sequences());
        TrainBatch merged = new TrainBatch(
                1,
                "r",
                0,
                64,
                both,
                two.get(0).trainableTokens() + two.get(1).trainableTokens(),
                128,
                List.of(),
                null,
                null);

        float[] afterAccumulation;
        float[] afterWhole;
        TrainingSession.Step accumulatedStep;
        TrainingSession.Step wholeStep;
        try (TrainingSession session = TrainingSession.start(accumulated, Precision.FLOAT32, Compute.newManager())) {
            assertThat(session.train(tensors(two).get(0))).isNull();
            accumulatedStep = session.train(tensors(two).get(1));
            assertThat(accumulatedStep).isNotNull();
            assertThat(accumulatedStep.step()).isEqualTo(1);
            // every trained label is predicted: the batches' trainableTokens is the step's denominator
            assertThat(accumulatedStep.trainedTokens()).isEqualTo(merged.trainableTokens());
            afterAccumulation = flat(session.tuning().parameters());
        }
        try (TrainingSession session = TrainingSession.start(whole, Precision.FLOAT32, Compute.newManager())) {
            wholeStep = session.train(BatchTensors.of(merged, 512, 512));
            assertThat(wholeStep).isNotNull();
            afterWhole = flat(session.tuning().parameters());
        }
        assertThat(accumulatedStep.loss()).isCloseTo(wholeStep.loss(), Percentage.withPercentage(1e-4));
        assertThat(accumulatedStep.gradNorm())
                .isGreaterThan(0)
                .isCloseTo(wholeStep.gradNorm(), Percentage.withPercentage(1e-3));
        assertThat(afterAccumulation.length).isEqualTo(afterWhole.length);
        for (int i = 0; i < afterWhole.length; i++) {
            assertThat(afterAccumulation[i])
                    .as("parameter element %d", i)
                    .isCloseTo(afterWhole[i], Offset.offset(2e-6f));
        }
        return wholeStep.loss();
    }

    @Test
    void loraAndJolaLearnAndResumeExactlyFromASavedState() throws Exception {
        String lora = StoriesRecipes.lora("learn", 12, 6);
        String jola = lora.replaceAll(
                        "(?s)lora_config:.*", "jola_config:\n  gate_scheduler: expon\n  gate_lambda: 0.0004\n")
                .replace("learning_rate: 5e-3", "learning_rate: 2e-2");
        String qlora = lora.replace("  tokenizer: stories260K\n", "  tokenizer: stories260K\n  load_in_4bit: true\n");
        String jolaOn4Bit =
                jola.replace("  tokenizer: stories260K\n", "  tokenizer: stories260K\n  load_in_4bit: true\n");
        for (String yaml : List.of(lora, jola, qlora, jolaOn4Bit)) {
            TrainingPlan plan = plan(yaml);
            List<BatchTensors> data = tensors(batches(24, 2));
            List<Double> uninterrupted = new ArrayList<>();
            NDManager manager = Compute.newManager();
            try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, manager)) {
                assertThat(((LlamaModel) session.model()).quantized())
                        .as("the base is in 4 bits exactly when the recipe asks")
                        .isEqualTo(yaml == qlora || yaml == jolaOn4Bit);
                int tensorsAfterTwoSteps = 0;
                for (BatchTensors batch : data) {
                    TrainingSession.Step step = session.train(batch);
                    if (step != null) {
                        uninterrupted.add(step.loss());
                        if (step.step() == 2) {
                            tensorsAfterTwoSteps = manager.getManagedArrays().size();
                        }
                    }
                }
                assertThat(manager.getManagedArrays().size())
                        .as(
                                "%s: tensors on the session's manager after 12 steps, against after 2 (nothing may pile up)",
                                plan.method())
                        .isEqualTo(tensorsAfterTwoSteps);
            }
            assertThat(uninterrupted).hasSize(12);
            assertThat(uninterrupted.subList(9, 12).stream()
                            .mapToDouble(d -> d)
                            .average()
                            .orElseThrow())
                    .as("%s: the last steps' loss against the first steps'", plan.method())
                    .isLessThan(uninterrupted.subList(0, 3).stream()
                            .mapToDouble(d -> d)
                            .average()
                            .orElseThrow());

            List<Double> resumed = new ArrayList<>();
            var gateState = (GateSchedule.State) null;
            Path state = folder.resolve(plan.method().name());
            try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
                for (BatchTensors batch : data.subList(0, 10)) {
                    TrainingSession.Step step = session.train(batch);
                    if (step != null) {
                        resumed.add(step.loss());
                    }
                }
                session.saveState(state);
                gateState = session.gateState();
            }
            try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
                assertThat(session.restoreState(state, gateState)).isEqualTo(5);
                for (BatchTensors batch : data.subList(10, 24)) {
                    TrainingSession.Step step = session.train(batch);
                    if (step != null) {
                        resumed.add(step.loss());
                    }
                }
            }
            assertThat(resumed).as("%s resumed at step 5", plan.method()).containsExactlyElementsOf(uninterrupted);
        }
    }

    /**
     * gradient_checkpointing recomputes each layer in the backward pass: LoRA and QLoRA (without dropout, whose
     * draws the recomputation reseeds per layer) take the same steps as without it.
     */
    @Test
    void gradientCheckpointingTrainsAsTheOrdinaryBackwardPass() throws Exception {
        String lora = StoriesRecipes.lora("ckpt", 4, 4).replace("  lora_dropout: 0.1\n", "");
        String qlora = lora.replace("  tokenizer: stories260K\n", "  tokenizer: stories260K\n  load_in_4bit: true\n");
        List<BatchTensors> data = tensors(batches(8, 2));
        for (String yaml : List.of(lora, qlora)) {
            List<Double> ordinary = losses(plan(yaml), data);
            TrainingPlan recomputing = plan(yaml.replace("  seed: 7\n", "  seed: 7\n  gradient_checkpointing: true\n"));
            assertThat(recomputing.gradientCheckpointing()).isTrue();
            List<Double> checkpointed = losses(recomputing, data);
            assertThat(checkpointed).hasSize(4);
            for (int i = 0; i < ordinary.size(); i++) {
                assertThat(checkpointed.get(i))
                        .as("step %d", i + 1)
                        .isCloseTo(ordinary.get(i), Percentage.withPercentage(1e-3));
            }
        }
    }

    private static List<Double> losses(TrainingPlan plan, List<BatchTensors> data) throws Exception {
        List<Double> losses = new ArrayList<>();
        try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
            for (BatchTensors batch : data) {
                TrainingSession.Step step = session.train(batch);
                if (step != null) {
                    losses.add(step.loss());
                }
            }
        }
        return losses;
    }

    /**
     * The process's CPU threads follow the model on the device: stories260K's largest product (8 x 64 tokens through
     * its 512-token head) is far below Compute's bound, so it trains on one thread even after a large model asked for
     * every core.
     */
    @Test
    void aSmallModelTrainsOnOneCpuThread() throws Exception {
        Assumptions.assumeTrue(
                System.getenv("OMP_NUM_THREADS") == null,
                "skipped: OMP_NUM_THREADS is set, and it decides the threads");
        int cores = Compute.useThreadsFor(1e12);
        assertThat(JniUtils.getNumThreads()).isEqualTo(cores);
        try (TrainingSession session = TrainingSession.start(
                plan(StoriesRecipes.lora("threads", 4, 4)), Precision.FLOAT32, Compute.newManager())) {
            session.train(tensors(batches(1, 8)).get(0));
        }
        assertThat(JniUtils.getNumThreads()).isEqualTo(1);
    }

    /**
     * A run whose length comes from its data (epochs, cosine): once the length is fixed its rate follows cosine over
     * it, and a session resumed from a saved state, given the same length first as the trainer does from its
     * checkpoint, goes on at the same rates; the length cannot change once a step is taken.
     */
    @Test
    void aLengthFromTheDataSpansTheScheduleAndSurvivesAResume() throws Exception {
        TrainingPlan plan =
                plan(StoriesRecipes.lora("length", 4, 4).replace("  max_steps: 4\n", "  num_train_epochs: 2\n"));
        assertThat(plan.lengthFromData()).isTrue();
        List<BatchTensors> data = tensors(batches(12, 1));
        var cosine = new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 5e-3, 1, 6);
        List<Double> rates = new ArrayList<>();
        Path state = folder.resolve("length");
        try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
            session.runLength(6);
            for (BatchTensors batch : data.subList(0, 4)) {
                TrainingSession.Step step = session.train(batch);
                if (step != null) {
                    rates.add(step.learningRate());
                }
            }
            session.saveState(state);
            assertThatThrownBy(() -> session.runLength(8)).isInstanceOf(IllegalStateException.class);
        }
        try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
            session.runLength(6);
            assertThat(session.restoreState(state, null)).isEqualTo(2);
            for (BatchTensors batch : data.subList(4, 12)) {
                TrainingSession.Step step = session.train(batch);
                if (step != null) {
                    rates.add(step.learningRate());
                }
            }
        }
        assertThat(rates).hasSize(6);
        for (int step = 0; step < 6; step++) {
            assertThat(rates.get(step)).as("step %d", step + 1).isEqualTo(cosine.at(step));
        }
    }

    @Test
    void aStateIsNotSavedInsideAnOptimiserStep() throws Exception {
        try (TrainingSession session = TrainingSession.start(
                plan(StoriesRecipes.lora("mid", 4, 4)), Precision.FLOAT32, Compute.newManager())) {
            session.train(tensors(batches(1, 1)).get(0));
            assertThat(session.midStep()).isTrue();
            assertThatThrownBy(() -> session.saveState(folder.resolve("mid")))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aBatchOutsideTheVocabularyIsRefusedWholeWithItsPlace() throws Exception {
        TrainBatch batch = batches(1, 1).get(0);
        PackedSequence row = batch.sequences().get(0);
        int[] ids = row.inputIds().toArray();
        ids[5] = 700;
        TrainBatch bad = new TrainBatch(
                1,
                "r",
                9,
                64,
                List.of(new PackedSequence(
                        TokenIds.of(ids),
                        row.labels(),
                        row.positionIds(),
                        row.documentStarts(),
                        row.length(),
                        row.trainableTokens())),
                batch.trainableTokens(),
                64,
                List.of(),
                null,
                null);
        assertThatThrownBy(() -> BatchTensors.of(bad, 512, 512))
                .isInstanceOf(MalformedBatchException.class)
                .hasMessageContaining("batch 9 of recipe r, row 0, position 5: token id 700 outside the model's"
                        + " vocabulary of 512");
    }

    private static float[] flat(List<NDArray> parameters) {
        int size = parameters.stream().mapToInt(p -> (int) p.getShape().size()).sum();
        float[] all = new float[size];
        int at = 0;
        for (NDArray parameter : parameters) {
            float[] values = parameter.toFloatArray();
            System.arraycopy(values, 0, all, at, values.length);
            at += values.length;
        }
        return all;
    }
}
