package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.SafetensorsHeader;
import dev.streamtune.lm.io.TensorDtype;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.LlamaWeights;
import dev.streamtune.lm.llama.ModelFamily;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mixed-precision path on the CPU, with float32 standing in for bfloat16 as the compute dtype and float64 for
 * float32 as the wide one: the same code a bfloat16 run takes, with dtypes this CPU can run through DJL. A model
 * computing in float32 with float64 norms, softmax and loss must agree with the same model all in float64 to
 * float32's precision, and its gradients must reach every weight through the casts.
 */
class MixedPrecisionTest {

    private static final Precision MIXED = new Precision(DataType.FLOAT32, DataType.FLOAT64);
    private static final Precision FLOAT64 = Precision.of(DataType.FLOAT64);
    /** OLMo-2 scales by the norm weight before narrowing, Llama after: both orders are checked. */
    private static final LlamaConfig OLMO2 =
            new LlamaConfig(16, 24, 2, 4, 2, 32, 16, 10000.0, 1e-6, RopeStyle.HALF, false, null, ModelFamily.OLMO2);

    private NDManager manager;
    private int[][] tokens;

    @BeforeEach
    void open() {
        manager = Compute.newManager();
        tokens = new TinyLlama(3, manager).tokens(2, 9);
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void llamaLossAndGradientsMatchTheFloat64ModelToFloat32Precision() {
        matchesFloat64(this::tinyLlama);
    }

    @Test
    void olmo2LossAndGradientsMatchTheFloat64ModelToFloat32Precision() {
        matchesFloat64(precision -> {
            LlamaWeights weights = RandomInit.llama(OLMO2, 5, DataType.FLOAT64, manager);
            weights.convertTo(precision);
            return new LlamaModel(OLMO2, weights, precision, manager);
        });
    }

    private void matchesFloat64(Function<Precision, LlamaModel> build) {
        LlamaModel reference = build.apply(FLOAT64);
        LlamaModel mixed = build.apply(MIXED);
        assertThat(mixed.weights().asMap().values()).allMatch(w -> w.getDataType() == DataType.FLOAT32);

        Map<String, double[]> expected = new LinkedHashMap<>();
        double expectedLoss = lossAndGradients(reference, expected);
        Map<String, double[]> actual = new LinkedHashMap<>();
        double actualLoss = lossAndGradients(mixed, actual);

        assertThat(Math.abs(actualLoss - expectedLoss)).isLessThan(1e-6 * Math.abs(expectedLoss));
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        for (String name : expected.keySet()) {
            double[] want = expected.get(name);
            double[] got = actual.get(name);
            double scale = 0;
            double error = 0;
            for (int i = 0; i < want.length; i++) {
                scale = Math.max(scale, Math.abs(want[i]));
                error = Math.max(error, Math.abs(got[i] - want[i]));
            }
            assertThat(scale).as("%s receives a gradient", name).isGreaterThan(1e-6);
            assertThat(error)
                    .as("%s: worst gradient error against float64", name)
                    .isLessThan(1e-5 * scale);
        }
    }

    /**
     * The norms really run in the wide dtype: with embeddings of magnitude 1e20, whose squares overflow float32, the
     * mixed model still normalises and agrees with float64, while an all-float32 model's RMSNorm divides by infinity
     * and every logit comes out zero.
     */
    @Test
    void normsComputeTheirStatisticsInTheWideDtype() {
        double[] expected = logits(scaledEmbeddings(tinyLlama(FLOAT64)));
        double[] mixed = logits(scaledEmbeddings(tinyLlama(MIXED)));
        double[] float32 = logits(scaledEmbeddings(tinyLlama(Precision.FLOAT32)));

        double scale = 0;
        double error = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            error = Math.max(error, Math.abs(mixed[i] - expected[i]));
        }
        assertThat(scale).isGreaterThan(0.1);
        assertThat(error).isLessThan(1e-5 * scale);
        assertThat(float32).containsOnly(0.0);
    }

    /**
     * AdamW on float32 parameters with float64 moments: the moments stay float64 (in memory and in the saved state),
     * the parameters stay float32, and each parameter receives p - lr * (m_hat / (sqrt(v_hat) + eps) + wd p) computed
     * in float64 and rounded once: equal, bit for bit, to that formula evaluated in Java doubles.
     */
    @Test
    void adamWKeepsItsMomentsWideAndRoundsEachUpdateOnceIntoTheParameter(@TempDir Path dir) throws Exception {
        LlamaModel model = tinyLlama(MIXED);
        List<NDArray> parameters = new ArrayList<>(model.weights().asMap().values());
        Map<String, double[]> gradients = new LinkedHashMap<>();
        lossAndGradients(model, gradients);
        Map<String, float[]> before = new LinkedHashMap<>();
        parameters.forEach(p -> before.put(p.getName(), p.toFloatArray()));
        List<NDArray> exempt = AdamW.exemptFromDecay(parameters);
        double beta1 = 0.9;
        double beta2 = 0.999;
        double eps = 1e-8;
        double weightDecay = 0.1;
        double learningRate = 1e-3;
        AdamW adamW = new AdamW(parameters, exempt, beta1, beta2, eps, weightDecay, DataType.FLOAT64, manager);

        adamW.step(learningRate, 1.0);

        for (NDArray parameter : parameters) {
            assertThat(parameter.getDataType()).isEqualTo(DataType.FLOAT32);
            float[] p = before.get(parameter.getName());
            double[] g = gradients.get(parameter.getName());
            boolean decays = !exempt.contains(parameter);
            float[] expected = new float[p.length];
            for (int i = 0; i < p.length; i++) { // step 1 from zero moments, in the order AdamW applies the operations
                double m = g[i] * (1 - beta1);
                double v = g[i] * g[i] * (1 - beta2);
                double update = m / (1 - beta1) / (Math.sqrt(v / (1 - beta2)) + eps);
                if (decays) {
                    update += p[i] * weightDecay;
                }
                expected[i] = (float) (p[i] - update * learningRate);
            }
            assertThat(parameter.toFloatArray()).as(parameter.getName()).containsExactly(expected);
        }
        Path state = dir.resolve("adamw.safetensors");
        adamW.save(state);
        List<SafetensorsHeader.TensorInfo> moments = Safetensors.header(state).tensors();
        assertThat(moments).hasSize(2 * parameters.size()).allMatch(t -> t.dtype() == TensorDtype.F64);
    }

    /** GPT-2's LayerNorms and softmax in float64 around float32 weights agree with GPT-2 all in float64. */
    @Test
    void gpt2ComputingInFloat32WithFloat64NormsMatchesFloat64() throws Exception {
        Path folder = SharedData.require("models/tiny-gpt2");
        Gpt2Model reference = Gpt2Model.read(folder, FLOAT64, manager);
        Gpt2Model mixed = Gpt2Model.read(folder, MIXED, manager);
        assertThat(mixed.weights().values()).allMatch(w -> w.getDataType() == DataType.FLOAT32);
        int[][] batch = {{50256, 464, 2068, 7586, 21831, 50256}};
        try (NDManager step = manager.newSubManager()) {
            NDArray expected = reference.forward(step.create(batch));
            NDArray actual = mixed.forward(step.create(batch));
            assertThat(actual.getDataType()).isEqualTo(DataType.FLOAT32);
            double error = actual.toType(DataType.FLOAT64, false)
                    .sub(expected)
                    .abs()
                    .max()
                    .getDouble();
            double scale = expected.abs().max().getDouble();
            assertThat(error).isLessThan(1e-5 * scale);
        }
    }

    /** TinyLlama's weights (drawn in float64, the same for every precision), converted to the compute dtype. */
    private LlamaModel tinyLlama(Precision precision) {
        LlamaWeights weights = new TinyLlama(7, manager).model().weights();
        weights.convertTo(precision);
        return new LlamaModel(TinyLlama.CONFIG, weights, precision, manager);
    }

    /** Mean loss of the fixed batch, in the model's wide dtype; fills in every weight's gradient as float64. */
    private double lossAndGradients(LlamaModel model, Map<String, double[]> gradients) {
        model.weights().asMap().values().forEach(w -> w.setRequiresGradient(true)); // full fine-tuning
        NDArray loss;
        try (NDManager step = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray batch = step.create(tokens);
            NDArray logits = model.forward(batch, null, true);
            assertThat(logits.getDataType()).isEqualTo(model.precision().compute());
            CausalLmLoss.Sum sum = CausalLmLoss.sum(logits, batch, model.precision());
            assertThat(sum.loss().getDataType()).isEqualTo(model.precision().wide());
            loss = sum.loss()
                    .div(step.create((double) sum.tokens())
                            .toType(model.precision().wide(), false));
            collector.backward(loss);
            double value = loss.getDouble();
            for (NDArray weight : model.weights().asMap().values()) {
                try (NDArray gradient = weight.getGradient()) {
                    assertThat(gradient.getDataType())
                            .as(weight.getName())
                            .isEqualTo(model.precision().compute());
                    gradients.put(
                            weight.getName(),
                            gradient.toType(DataType.FLOAT64, false).toDoubleArray());
                }
            }
            return value;
        }
    }

    private static LlamaModel scaledEmbeddings(LlamaModel model) {
        NDArray embedding = model.weights().asMap().get("model.embed_tokens.weight");
        embedding.muli(1e20);
        return model;
    }

    private double[] logits(LlamaModel model) {
        try (NDManager step = manager.newSubManager()) {
            return model.forward(step.create(tokens))
                    .toType(DataType.FLOAT64, false)
                    .toDoubleArray();
        }
    }
}
