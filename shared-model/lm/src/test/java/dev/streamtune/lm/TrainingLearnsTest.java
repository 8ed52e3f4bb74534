package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.tokenizer.Llama2cTokenizer;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.testing.SharedData;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Fine-tuning the real stories260K on a small project-written text set lowers its loss, and LoRA leaves the base alone. */
class TrainingLearnsTest {

    /** Stories the model has never seen: a robot, its number and its song. */
    private static final String TEXT = """
            Zork was a purple robot who lived on the moon. Every night Zork counted the stars up to nine.
            When Zork reached nine, the robot sang a song about cheese. The song was always the same.
            Zork the purple robot counted to nine and sang about cheese, and the stars listened.
            """;

    private static final int SEQUENCES = 4;
    private static final int LENGTH = 48;

    @Test
    void loraOnQueriesAndValuesLowersTheLossAndNeverTouchesTheBase() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(42);
            LlamaModel model = load(manager);
            int[][] batch = batch(manager);
            float[] queryBefore = model.weights()
                    .asMap()
                    .get("model.layers.0.self_attn.q_proj.weight")
                    .toFloatArray();
            float[] embedBefore =
                    model.weights().asMap().get("model.embed_tokens.weight").toFloatArray();
            double baseLoss = loss(model, batch, manager, false);

            Map<String, Shape> modules = new LinkedHashMap<>();
            model.linearModules()
                    .forEach(m -> modules.put(
                            m, model.weights().asMap().get(m + ".weight").getShape()));
            LoraAdapters lora = new LoraAdapters(
                    new LoraSpec(8, 16, 0.0, TargetModules.of(List.of("q_proj", "v_proj")), false), modules, manager);
            model.setAdapters(lora);
            assertThat(lora.weights()).hasSize(2 * model.config().layers());
            AdamW optimizer = new AdamW(lora.parameters(), List.of(), 0.9, 0.999, 1e-8, 0.0, manager);

            List<Double> losses = train(model, optimizer, batch, manager, 40, 1e-2);

            assertThat(losses.get(0))
                    .as("B starts at zero: the first step sees the base model")
                    .isCloseTo(baseLoss, within(1e-5));
            assertThat(average(losses.subList(35, 40))).isLessThan(0.25 * losses.get(0)); // measured: 2.88 -> 0.05
            assertThat(model.weights()
                            .asMap()
                            .get("model.layers.0.self_attn.q_proj.weight")
                            .toFloatArray())
                    .containsExactly(queryBefore);
            assertThat(model.weights().asMap().get("model.embed_tokens.weight").toFloatArray())
                    .containsExactly(embedBefore);
            for (NDArray parameter : model.weights().asMap().values()) {
                assertThat(parameter.hasGradient())
                        .as("base tensor %s is frozen", parameter.getName())
                        .isFalse();
            }
        }
    }

    @Test
    void fullFineTuningLowersTheLoss() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(42);
            LlamaModel model = load(manager);
            int[][] batch = batch(manager);
            List<NDArray> parameters = new ArrayList<>(model.weights().asMap().values());
            List<NDArray> norms = parameters.stream()
                    .filter(p -> p.getName().endsWith("norm.weight"))
                    .toList();
            parameters.forEach(p -> p.setRequiresGradient(true));
            AdamW optimizer = new AdamW(parameters, norms, 0.9, 0.999, 1e-8, 0.01, manager);

            List<Double> losses = train(model, optimizer, batch, manager, 30, 3e-3);

            assertThat(average(losses.subList(25, 30))).isLessThan(0.1 * losses.get(0)); // measured: 2.88 -> 0.03
        }
    }

    static List<Double> train(
            LlamaModel model, AdamW optimizer, int[][] batch, NDManager manager, int steps, double learningRate) {
        List<Double> losses = new ArrayList<>();
        for (int step = 0; step < steps; step++) {
            losses.add(loss(model, batch, manager, true));
            optimizer.step(learningRate, 1.0);
        }
        return losses;
    }

    /** Mean next-token loss over the batch; with {@code backward}, gradients of that mean are accumulated. */
    static double loss(LlamaModel model, int[][] batch, NDManager manager, boolean backward) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray tokens = scope.create(batch);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(tokens, backward), tokens);
                NDArray mean = sum.loss().div(scope.create((float) sum.tokens()));
                if (backward) {
                    collector.backward(mean);
                }
                return mean.getFloat();
            }
        }
    }

    static LlamaModel load(NDManager manager) throws Exception {
        Llama2cCheckpoint.Loaded loaded =
                Llama2cCheckpoint.read(SharedData.require("models/stories260K/stories260K.bin"), manager);
        return new LlamaModel(loaded.config(), loaded.weights(), manager);
    }

    /** {@link #SEQUENCES} windows of {@link #LENGTH} tokens over the tokenized text, each starting with BOS. */
    static int[][] batch(NDManager manager) throws Exception {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.read(SharedData.require("models/stories260K/tok512.bin"), 512);
        int[] text = tokenizer.encode(TEXT.replace('\n', ' ').trim(), false, false);
        int[][] batch = new int[SEQUENCES][LENGTH];
        for (int s = 0; s < SEQUENCES; s++) {
            batch[s][0] = Llama2cTokenizer.BOS;
            for (int t = 1; t < LENGTH; t++) {
                batch[s][t] = text[(s * 11 + t - 1) % text.length];
            }
        }
        return batch;
    }

    static double average(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }
}
