package dev.streamtune.lm.jola;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.llama.HeadEdits;
import dev.streamtune.lm.runtime.Compute;
import java.util.ArrayList;
import java.util.List;

/**
 * JoLA (Lai, Fraser, Titov, ICML 2025): joint localisation and activation editing of attention heads. On every
 * layer each query head's output z [B, T, H, hd] is edited before the output projection:
 *
 * <pre>  z' = z * (1 + g_m * m) + g_a * a  </pre>
 *
 * with m ({@code attn_A}) and a ({@code attn_v}) [H, hd], initialised N(0, 1e-3), and Hard-Concrete gates g_m
 * ({@code log_g2}) and g_a ({@code log_g1}) [H, 1], log-alphas initialised xavier-uniform U(+-sqrt(6 / (H + 1))).
 * Only these tensors train; heads whose gates are 0 are left exactly as they were.
 */
public final class JolaGates implements HeadEdits {

    /** How the sparsity penalty is written. */
    public enum Penalty {
        /**
         * The authors' code: lambda * P_a / (L * H) + (1 - lambda) * P_m / (L * H), where P_a and P_m sum over layers
         * the per-layer mean expected L0 of the additive and multiplicative gates (normalised by H twice).
         */
        CODED,
        /** The blog post: lambda * sum over layers and heads of P(g_a != 0 or g_m != 0). */
        BLOG
    }

    private final int layers;
    private final int heads;
    private final int headDim;
    private final HardConcrete gates;
    private final List<NDArray> multiplicative = new ArrayList<>(); // attn_A, m
    private final List<NDArray> additive = new ArrayList<>(); // attn_v, a
    private final List<NDArray> additiveLogAlpha = new ArrayList<>(); // log_g1
    private final List<NDArray> multiplicativeLogAlpha = new ArrayList<>(); // log_g2
    private final NDArray one;
    private final DataType dtype;

    public JolaGates(int layers, int heads, int headDim, NDManager manager) {
        this(layers, heads, headDim, DataType.FLOAT32, manager);
    }

    /** @param dtype the base model's type (float32; float64 for gradient checks) */
    public JolaGates(int layers, int heads, int headDim, DataType dtype, NDManager manager) {
        this.layers = layers;
        this.heads = heads;
        this.headDim = headDim;
        this.dtype = dtype;
        this.gates = new HardConcrete(manager, dtype);
        this.one = manager.create(1.0).toType(dtype, false);
        float bound = (float) Math.sqrt(6.0 / (heads + 1));
        for (int layer = 0; layer < layers; layer++) {
            multiplicative.add(trainable(
                    manager.randomNormal(0f, 1e-3f, new Shape(heads, headDim), DataType.FLOAT32)
                            .toType(dtype, false),
                    "model.layers." + layer + ".self_attn.attn_A"));
            additive.add(trainable(
                    manager.randomNormal(0f, 1e-3f, new Shape(heads, headDim), DataType.FLOAT32)
                            .toType(dtype, false),
                    "model.layers." + layer + ".self_attn.attn_v"));
            additiveLogAlpha.add(trainable(
                    manager.randomUniform(-bound, bound, new Shape(heads, 1)).toType(dtype, false),
                    "model.layers." + layer + ".self_attn.log_g1"));
            multiplicativeLogAlpha.add(trainable(
                    manager.randomUniform(-bound, bound, new Shape(heads, 1)).toType(dtype, false),
                    "model.layers." + layer + ".self_attn.log_g2"));
        }
    }

    public int layers() {
        return layers;
    }

    public int heads() {
        return heads;
    }

    public int headDim() {
        return headDim;
    }

    private static NDArray trainable(NDArray array, String name) {
        array.setName(name);
        array.setRequiresGradient(true);
        return array;
    }

    @Override
    public NDArray edit(int layer, NDArray z, boolean training) {
        NDManager scope = z.getManager();
        NDArray gateM = gates.gate(multiplicativeLogAlpha.get(layer), training, scope); // [H, 1]
        NDArray gateA = gates.gate(additiveLogAlpha.get(layer), training, scope);
        NDArray scale = gateM.mul(multiplicative.get(layer)).add(one); // [H, hd]
        NDArray shift = gateA.mul(additive.get(layer));
        return z.mul(scale).add(shift);
    }

    /** The sparsity penalty to add to the cross-entropy, with weight {@code lambda} from the gate schedule. */
    public NDArray penalty(NDArray lambda, Penalty form, NDManager scope) {
        NDArray total = scope.zeros(new Shape(), dtype);
        if (form == Penalty.CODED) {
            NDArray pAdditive = scope.zeros(new Shape(), dtype);
            NDArray pMultiplicative = scope.zeros(new Shape(), dtype);
            for (int layer = 0; layer < layers; layer++) {
                pAdditive = pAdditive.add(
                        gates.expectedL0(additiveLogAlpha.get(layer), scope).mean());
                pMultiplicative = pMultiplicative.add(gates.expectedL0(multiplicativeLogAlpha.get(layer), scope)
                        .mean());
            }
            NDArray normaliser = scope.create((double) layers * heads).toType(dtype, false);
            return total.add(lambda.mul(pAdditive)
                    .add(lambda.neg().add(one).mul(pMultiplicative))
                    .div(normaliser));
        }
        for (int layer = 0; layer < layers; layer++) {
            NDArray pa = gates.expectedL0(additiveLogAlpha.get(layer), scope);
            NDArray pm = gates.expectedL0(multiplicativeLogAlpha.get(layer), scope);
            // P(a != 0 or m != 0) = 1 - (1 - p_a)(1 - p_m), gates drawn independently
            NDArray either = pa.neg().add(one).mul(pm.neg().add(one)).neg().add(one);
            total = total.add(either.sum());
        }
        return total.mul(lambda);
    }

    /** Every trainable tensor, layer by layer: attn_A, attn_v, log_g1, log_g2. */
    public List<NDArray> parameters() {
        List<NDArray> parameters = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            parameters.add(multiplicative.get(layer));
            parameters.add(additive.get(layer));
            parameters.add(additiveLogAlpha.get(layer));
            parameters.add(multiplicativeLogAlpha.get(layer));
        }
        return parameters;
    }

    /** The gate log-alphas: exempt from weight decay by default. */
    public List<NDArray> gateParameters() {
        List<NDArray> gateParameters = new ArrayList<>(additiveLogAlpha);
        gateParameters.addAll(multiplicativeLogAlpha);
        return gateParameters;
    }

    /** layers * (2 H hd + 2 H). */
    public long trainableParameterCount() {
        return (long) layers * (2L * heads * headDim + 2L * heads);
    }

    /** Sets every log-alpha of one layer (to close or open its gates), outside gradient recording. */
    public void setLogAlphas(int layer, float value) {
        Compute.withoutGradients(() -> {
            additiveLogAlpha.get(layer).set(new NDIndex("..."), value);
            multiplicativeLogAlpha.get(layer).set(new NDIndex("..."), value);
            return null;
        });
    }

    /** The deterministic (evaluation) gates of one layer, additive then multiplicative, each [H]. */
    public float[][] evaluationGates(int layer, NDManager scope) {
        return new float[][] {
            gates.gate(additiveLogAlpha.get(layer), false, scope)
                    .toType(DataType.FLOAT32, false)
                    .toFloatArray(),
            gates.gate(multiplicativeLogAlpha.get(layer), false, scope)
                    .toType(DataType.FLOAT32, false)
                    .toFloatArray()
        };
    }
}
