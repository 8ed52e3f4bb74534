package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.LlamaWeights;
import dev.streamtune.lm.quant.FourBitConfig;
import dev.streamtune.lm.quant.FourBitTensor;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.quant.QuantizedLinear;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.testing.SharedData;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * QLoRA: the frozen base's linear weights held in 4 bits and dequantised layer by layer in the forward, LoRA on top.
 * On the real stories260K and tiny-gpt2 weights and on the tiny float64 Llama of the exact checks.
 */
class QloraTest {

    /** max over adjacent NF4 code values of half their gap (between 0.7229568 and 1.0): the worst rounding, per unit scale. */
    private static final double NF4_HALF_GAP = (1.0 - 0.7229568362236023) / 2;

    @Test
    void quantisationErrorOfRealWeightsStaysWithinWhatNf4Predicts() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Map<String, NDArray> linear = new LinkedHashMap<>();
            LlamaModel stories = TrainingLearnsTest.load(manager);
            stories.linearWeights().forEach((module, weight) -> linear.put("stories260K " + module, weight));
            Gpt2Model gpt2 = Gpt2Model.read(SharedData.require("models/tiny-gpt2"), manager);
            gpt2.linearWeights().forEach((module, weight) -> linear.put("tiny-gpt2 " + module, weight));

            double nf4Total = 0;
            double fp4Total = 0;
            for (Map.Entry<String, NDArray> entry : linear.entrySet()) {
                float[] values = entry.getValue().toFloatArray();
                long[] shape = entry.getValue().getShape().getShape();
                FourBitTensor nf4 = FourBitTensor.quantize(values, shape, FourBitType.NF4, true);
                double error = relativeError(values, nf4.dequantize());
                // every value is at most half the widest code gap times its block's scale from where it was
                double bound = worstCaseRelativeError(values, nf4);
                assertThat(error)
                        .as("%s: relative error %.4f, bound %.4f", entry.getKey(), error, bound)
                        .isLessThanOrEqualTo(bound)
                        .isGreaterThan(0);
                nf4Total += error;
                fp4Total += relativeError(
                        values,
                        FourBitTensor.quantize(values, shape, FourBitType.FP4, true)
                                .dequantize());
            }
            double nf4Mean = nf4Total / linear.size();
            double fp4Mean = fp4Total / linear.size();
            System.out.printf(
                    "4-bit relative error (Frobenius) over %d linear weights of stories260K and tiny-gpt2:"
                            + " NF4 %.4f, FP4 %.4f%n",
                    linear.size(), nf4Mean, fp4Mean);
            // QLoRA's claim, on real weights: the normal-quantile code loses less than the float code
            assertThat(nf4Mean).isLessThan(fp4Mean);
        }
    }

    @Test
    void stories260kScoresItsReferenceInputNearlyAsInFloat32() throws Exception {
        Stories260kReference reference =
                Stories260kReference.read(SharedData.require("models/stories260K/REFERENCE.md"));
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model = TrainingLearnsTest.load(manager);
            double dense = meanNll(model, reference.forcedInput(), manager);
            assertThat(dense).isCloseTo(reference.meanNll(), within(1e-4));
            StringBuilder figures = new StringBuilder();
            for (FourBitType type : FourBitType.values()) {
                for (boolean doubleQuant : new boolean[] {false, true}) {
                    LlamaModel quantised = TrainingLearnsTest.load(manager);
                    quantised.quantize(type, doubleQuant);
                    double nll = meanNll(quantised, reference.forcedInput(), manager);
                    double perplexityRatio = Math.exp(nll - dense);
                    figures.append(String.format(
                            " %s%s %.4f (perplexity x%.4f)",
                            type.key(), doubleQuant ? "+dq" : "", nll, perplexityRatio));
                    if (type == FourBitType.NF4) {
                        // the input is one the model nearly knows by heart (NLL 0.10 nats), so the relative change of
                        // the NLL says little; the perplexity is what moves by a few percent
                        assertThat(perplexityRatio)
                                .as(
                                        "NF4%s mean NLL %.4f against float32 %.4f",
                                        doubleQuant ? " with double quantisation" : "", nll, dense)
                                .isLessThan(1.10);
                    }
                }
            }
            System.out.printf("stories260K mean NLL on its reference input: float32 %.4f;%s%n", dense, figures);
        }
    }

    @Test
    void dequantisingLayerByLayerComputesWhatTheDequantisedModelComputes() throws Exception {
        Stories260kReference reference =
                Stories260kReference.read(SharedData.require("models/stories260K/REFERENCE.md"));
        try (NDManager manager = Compute.newManager()) {
            LlamaModel quantised = TrainingLearnsTest.load(manager);
            quantised.quantize(FourBitType.NF4, true);
            LlamaModel dequantised = new LlamaModel(
                    quantised.config(), quantised.weights().dequantized(DataType.FLOAT32, manager), manager);
            int[] input = reference.forcedInput();
            try (NDManager scope = manager.newSubManager()) {
                NDArray tokens = scope.create(input, new Shape(1, input.length));
                assertThat(quantised.forward(tokens).toFloatArray())
                        .containsExactly(dequantised.forward(tokens).toFloatArray());
            }
        }
    }

    @Test
    void aFourBitLoadQuantisesOnTheHostAndComputesWhatQuantisingInPlaceComputes() throws Exception {
        Stories260kReference reference =
                Stories260kReference.read(SharedData.require("models/stories260K/REFERENCE.md"));
        try (NDManager manager = Compute.newManager()) {
            ModelSource source = ModelSource.at(SharedData.require("models/stories260K/stories260K.bin"));
            LlamaModel loaded = (LlamaModel)
                    source.load(0, Precision.FLOAT32, new FourBitConfig(FourBitType.NF4, true, null), manager);
            // the staging tensors are gone: what the model keeps must be its own memory, not a view of theirs
            // (a view of a freed direct buffer reads garbage, or crashes, once the collector has run)
            for (int i = 0; i < 5; i++) {
                System.gc();
                ByteBuffer.allocateDirect(1 << 22).put(0, (byte) 1);
            }
            LlamaModel inPlace = TrainingLearnsTest.load(manager);
            inPlace.quantize(FourBitType.NF4, true);
            assertThat(loaded.quantized()).isTrue();
            assertThat(loaded.weights().quantized().keySet())
                    .hasSize(7 * loaded.config().layers())
                    .isEqualTo(inPlace.weights().quantized().keySet());
            assertThat(loaded.weights().asMap().keySet())
                    .noneMatch(name -> name.endsWith("_proj.weight"))
                    .contains("model.embed_tokens.weight", "model.norm.weight");
            int[] input = reference.forcedInput();
            try (NDManager scope = manager.newSubManager()) {
                NDArray tokens = scope.create(input, new Shape(1, input.length));
                assertThat(loaded.forward(tokens).toFloatArray())
                        .containsExactly(inPlace.forward(tokens).toFloatArray());
            }
        }
    }

    /**
     * GPT-2's Conv1D layers in 4 bits, quantised as [out, in] as transformers hands them to bitsandbytes: the 4-bit
     * model computes what its dequantised model computes, LoRA trains on it, and merging into the dequantised base
     * computes what the adapted 4-bit model computes.
     */
    @Test
    void gpt2ConvLayersInFourBitsTakeLoraAndMerge() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(9);
            Gpt2Model model = (Gpt2Model) ModelSource.at(SharedData.require("models/tiny-gpt2"))
                    .load(0, Precision.FLOAT32, new FourBitConfig(FourBitType.NF4, true, null), manager);
            assertThat(model.quantizedWeights()).hasSize(4 * model.config().layers());
            assertThat(model.weights().keySet()).noneMatch(name -> name.endsWith("c_attn.weight"));
            int[][] tokens = {{464, 2068, 7586, 21831, 18045, 625, 262}};
            Gpt2Model dequantised = model.dequantized(manager);
            try (NDManager scope = manager.newSubManager()) {
                NDArray batch = scope.create(tokens);
                assertThat(model.forward(batch).toFloatArray())
                        .containsExactly(dequantised.forward(batch).toFloatArray());
            }
            LoraAdapters lora = LoraAdapters.create(
                    new LoraSpec(2, 4, 0.0, TargetModules.of(List.of("c_attn", "c_fc")), false), model, manager);
            lora.weights()
                    .values()
                    .forEach(pair -> pair.b().set(new NDIndex("..."), 0.5f)); // B non-zero: it changes the model
            model.setAdapters(lora);
            try (NDManager scope = manager.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray batch = scope.create(tokens);
                collector.backward(CausalLmLoss.sum(model.forward(batch, null, true), batch)
                        .loss());
            }
            assertThat(lora.parameters().get(0).getGradient().abs().sum().getFloat())
                    .isGreaterThan(0f);
            Gpt2Model merged = model.dequantized(manager).merged(lora, manager);
            try (NDManager scope = manager.newSubManager()) {
                NDArray batch = scope.create(tokens);
                float[] adapted = model.forward(batch).toFloatArray();
                float[] folded = merged.forward(batch).toFloatArray();
                for (int i = 0; i < adapted.length; i++) {
                    assertThat(folded[i]).isCloseTo(adapted[i], within(1e-4f));
                }
            }
        }
    }

    @Test
    void qloraLearnsAndThePackedBaseNeverChanges() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(42);
            LlamaModel model = TrainingLearnsTest.load(manager);
            model.quantize(FourBitType.NF4, true);
            Map<String, byte[]> packedBefore = new LinkedHashMap<>();
            model.weights()
                    .quantized()
                    .forEach((name, linear) ->
                            packedBefore.put(name, linear.packed().toByteArray()));
            int[][] batch = TrainingLearnsTest.batch(manager);
            double baseLoss = TrainingLearnsTest.loss(model, batch, manager, false);

            LoraAdapters lora = LoraAdapters.create(
                    new LoraSpec(
                            8,
                            16,
                            0.0,
                            TargetModules.of(List.of(
                                    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")),
                            false),
                    model,
                    manager);
            model.setAdapters(lora);
            AdamW optimizer = new AdamW(lora.parameters(), List.of(), 0.9, 0.999, 1e-8, 0.0, manager);
            List<Double> losses = TrainingLearnsTest.train(model, optimizer, batch, manager, 30, 1e-2);

            System.out.printf(
                    "QLoRA (NF4, double quantisation) on stories260K: loss %.3f -> %.3f in 30 steps%n",
                    losses.get(0), TrainingLearnsTest.average(losses.subList(25, 30)));
            assertThat(losses.get(0))
                    .as("B starts at zero: the first step sees the 4-bit base")
                    .isCloseTo(baseLoss, within(1e-5));
            assertThat(TrainingLearnsTest.average(losses.subList(25, 30))).isLessThan(0.5 * losses.get(0));
            model.weights().quantized().forEach((name, linear) -> {
                assertThat(linear.packed().toByteArray())
                        .as("%s's packed indices", name)
                        .containsExactly(packedBefore.get(name));
                assertThat(linear.packed().hasGradient()).isFalse();
            });
            for (NDArray dense : model.weights().asMap().values()) {
                assertThat(dense.hasGradient())
                        .as("base tensor %s is frozen", dense.getName())
                        .isFalse();
            }
        }
    }

    @Test
    void loraGradientsThroughTheDequantisedBaseMatchFiniteDifferences() {
        try (NDManager manager = Compute.newManager()) {
            TinyLlama tiny = new TinyLlama(7, manager);
            LlamaModel model = tiny.model(); // float64: dequantised weights are widened to it
            model.quantize(FourBitType.NF4, true);
            int[][] tokens = tiny.tokens(2, 9);
            Map<String, LoraWeights> pairs = tiny.loraPairs(
                    model, List.of("model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj"), 4);
            LoraAdapters lora = new LoraAdapters(
                    new LoraSpec(4, 8, 0.0, TargetModules.of(List.of("q_proj", "down_proj")), false),
                    pairs,
                    manager,
                    true);
            model.setAdapters(lora);

            Supplier<NDArray> loss = () -> {
                NDArray batch = manager.create(tokens);
                CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(batch, null, false), batch);
                return sum.loss().div(manager.create((double) sum.tokens()));
            };
            FiniteDifferences.check(lora.parameters(), loss, manager);
        }
    }

    @Test
    void residentLinearWeightsTakeAboutFourAndAQuarterBitsPerParameter() {
        try (NDManager manager = Compute.newManager()) {
            // a Llama layer shaped like a 1B model's, smaller in depth: hidden 2048, intermediate 5632
            Engine.getInstance().setRandomSeed(3);
            Map<String, Long> parameters = new LinkedHashMap<>();
            long[][] shapes = {{2048, 2048}, {256, 2048}, {5632, 2048}, {2048, 5632}};
            for (boolean doubleQuant : new boolean[] {false, true}) {
                long bytes = 0;
                long weights = 0;
                for (long[] shape : shapes) {
                    NDArray dense = manager.randomNormal(0, 0.02f, new Shape(shape), DataType.FLOAT32);
                    try (QuantizedLinear linear =
                            QuantizedLinear.quantize(dense, FourBitType.NF4, doubleQuant, manager)) {
                        bytes += linear.bytes();
                        weights += dense.getShape().size();
                        assertThat(linear.denseBytes(DataType.FLOAT32))
                                .isEqualTo(4 * dense.getShape().size());
                    }
                    dense.close();
                }
                double bits = 8.0 * bytes / weights;
                parameters.put(doubleQuant ? "nested" : "plain", bytes);
                System.out.printf(
                        "4-bit linear weights, %s scales: %.4f bits per parameter (float32: 32)%n",
                        doubleQuant ? "double-quantised" : "float32", bits);
                assertThat(bits).isCloseTo(doubleQuant ? 4.127 : 4.5, within(0.002));
            }
            assertThat(parameters.get("nested")).isLessThan(parameters.get("plain"));
        }
    }

    @Test
    void mergingFoldsTheAdapterIntoTheDequantisedBase() {
        try (NDManager manager = Compute.newManager()) {
            TinyLlama tiny = new TinyLlama(5, manager);
            LlamaModel model = tiny.model();
            model.quantize(FourBitType.NF4, false);
            Map<String, LoraWeights> pairs = tiny.loraPairs(model, model.linearModules(), 2);
            LoraAdapters lora =
                    new LoraAdapters(new LoraSpec(2, 4, 0.0, TargetModules.of(".*"), false), pairs, manager, false);
            model.setAdapters(lora);
            LlamaWeights merged = lora.merged(model.weights().dequantized(DataType.FLOAT64, manager), manager);
            LlamaModel plain = new LlamaModel(model.config(), merged, manager);
            try (NDManager scope = manager.newSubManager()) {
                NDArray tokens = scope.create(tiny.tokens(2, 7));
                double[] adapted = model.forward(tokens).toDoubleArray();
                double[] folded = plain.forward(tokens).toDoubleArray();
                for (int i = 0; i < adapted.length; i++) {
                    assertThat(folded[i]).isCloseTo(adapted[i], within(1e-9));
                }
            }
        }
    }

    private static double meanNll(LlamaModel model, int[] input, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray logProbs = model.forward(scope.create(input, new Shape(1, input.length)))
                    .get(new NDIndex("0"))
                    .logSoftmax(-1);
            double nll = 0;
            for (int t = 0; t + 1 < input.length; t++) {
                nll -= logProbs.getFloat(t, input[t + 1]);
            }
            return nll / (input.length - 1);
        }
    }

    private static double relativeError(float[] values, float[] back) {
        double error = 0;
        double norm = 0;
        for (int i = 0; i < values.length; i++) {
            error += (values[i] - back[i]) * (double) (values[i] - back[i]);
            norm += values[i] * (double) values[i];
        }
        return Math.sqrt(error / norm);
    }

    /** sqrt(sum over values of (half gap x block scale)^2) / ||W||: each value rounded as far as NF4 ever rounds. */
    private static double worstCaseRelativeError(float[] values, FourBitTensor quantised) {
        float[] scales = quantised.scales();
        double bound = 0;
        double norm = 0;
        for (int i = 0; i < values.length; i++) {
            double worst = NF4_HALF_GAP * scales[i / FourBitTensor.BLOCK];
            bound += worst * worst;
            norm += values[i] * (double) values[i];
        }
        return Math.sqrt(bound / norm) * 1.0001;
    }
}
