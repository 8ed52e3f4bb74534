package dev.streamtune.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.adapters.LinearAdapters;
import dev.streamtune.lm.attention.AttentionLayout;
import dev.streamtune.lm.attention.CausalMasks;
import dev.streamtune.lm.attention.KvCache;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.runtime.Precision;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A decoder-only transformer, whatever its layers: what Llama-family models and GPT-2 share. It holds the precision,
 * the constants every architecture's attention and norms use, and the fine-tuning method's adapters; it lays out a
 * forward pass (positions and mask for rows of one document, packed rows or a generation step) and leaves the layers
 * from token ids to logits to the architecture ({@link #forward(NDArray, ForwardPass)}).
 *
 * @param <C> the architecture's configuration
 */
public abstract class DecoderModel<C extends DecoderConfig> implements CausalLm {

    protected final C config;
    protected final Precision precision;
    /** The precision's compute dtype: the weights' and the activations'. */
    protected final DataType dtype;
    /** The norms' epsilon, in the wide dtype the norms compute in. */
    protected final NDArray eps;
    /** 1 / sqrt(headDim), applied to the queries once instead of to every score. */
    protected final NDArray queryScale;

    private final CausalMasks causalMasks;
    private LinearAdapters adapters = LinearAdapters.NONE;

    /**
     * Constants that enter computations are tensors made once on {@code manager}, never Java scalars: DJL frees scalar
     * wrappers immediately, which corrupts backward passes (see DJL_NOTES).
     */
    protected DecoderModel(C config, Precision precision, double normEps, NDManager manager) {
        this.config = config;
        this.precision = precision;
        this.dtype = precision.compute();
        this.eps = manager.create(normEps).toType(precision.wide(), false); // used inside the wide norms
        this.queryScale = manager.create(1.0 / Math.sqrt(config.headDim())).toType(dtype, false);
        this.causalMasks = new CausalMasks(manager, dtype);
    }

    public C config() {
        return config;
    }

    public Precision precision() {
        return precision;
    }

    @Override
    public DataType computeDtype() {
        return dtype;
    }

    @Override
    public int layers() {
        return config.layers();
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int maxPositions() {
        return config.maxPositions();
    }

    @Override
    public int attentionHeads() {
        return config.heads();
    }

    @Override
    public int headDim() {
        return config.headDim();
    }

    /** The largest of the architecture's products, fused ones and the output head included ({@link DecoderConfig}). */
    @Override
    public double largestProductFlops(long tokens) {
        return config.largestProductFlops(tokens);
    }

    /** Hugging Face names of the linear layers a fine-tuning method may target (the output head excluded). */
    public List<String> linearModules() {
        return config.linearModules();
    }

    /** Installs a fine-tuning method's adaptation of the linear layers (LoRA, DoRA...); null takes it off. */
    @Override
    public void setAdapters(LinearAdapters adapters) {
        this.adapters = adapters == null ? LinearAdapters.NONE : adapters;
    }

    /** The fine-tuning method's adaptation of the linear layers, {@link LinearAdapters#NONE} when there is none. */
    protected LinearAdapters adapters() {
        return adapters;
    }

    /** Whether the linear layers' weights are held in 4 bits (QLoRA's frozen base). */
    public abstract boolean quantized();

    /**
     * The linear layers a fine-tuning method may target, by module name, their weights seen as [out, in]. A model
     * whose linear weights are held in 4 bits has no dense ones to give: use {@link #linearShapes()} and
     * {@link #linearWeight}.
     */
    @Override
    public Map<String, NDArray> linearWeights() {
        if (quantized()) {
            throw new IllegalStateException(
                    "the linear weights are held in 4 bits: read their shapes with linearShapes()"
                            + " and one dequantised weight at a time with linearWeight()");
        }
        Map<String, NDArray> linear = new LinkedHashMap<>();
        for (String module : linearModules()) {
            linear.put(module, denseLinearWeight(module));
        }
        return linear;
    }

    @Override
    public Map<String, Shape> linearShapes() {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        for (String module : linearModules()) {
            shapes.put(module, linearShape(module));
        }
        return shapes;
    }

    @Override
    public abstract NDArray linearWeight(String module, NDManager scope);

    /** A dense linear layer's frozen weight seen as [out, in] (a view where the model stores it otherwise). */
    protected abstract NDArray denseLinearWeight(String module);

    /** A linear layer's weight shape [out, in], dense or held in 4 bits. */
    protected abstract Shape linearShape(String module);

    /** Logits for every position of rows of one document each: [batch, time] to [batch, time, vocab]. */
    public NDArray forward(NDArray tokens) {
        return forward(tokens, null, false);
    }

    /**
     * Logits for rows of one document each ({@code packing} null) or of packed documents, which attend only within
     * themselves and restart their positions.
     */
    @Override
    public NDArray forward(NDArray tokens, Packing packing, boolean training) {
        int time = (int) tokens.getShape().get(1);
        return run(tokens, scope -> pass(scope, time, packing, training));
    }

    /**
     * Logits of the next tokens of every row given what the cache holds, which then holds these tokens too: the step
     * of generation. The first call passes the (left-padded) prompts, later calls one token per row.
     */
    @Override
    public NDArray forward(NDArray tokens, KvCache cache) {
        int time = (int) tokens.getShape().get(1);
        NDArray logits = run(
                tokens, scope -> new ForwardPass(scope, AttentionLayout.of(scope, time, cache, dtype), cache, false));
        cache.advance(time);
        return logits;
    }

    /** A pass over {@code time} tokens per row, without a cache, its arrays on {@code scope}. */
    protected ForwardPass pass(NDManager scope, int time, Packing packing, boolean training) {
        return new ForwardPass(scope, AttentionLayout.of(scope, time, packing, causalMasks, dtype), null, training);
    }

    /** One pass on a scope of its own, freed when it returns; the logits go to the tokens' manager. */
    private NDArray run(NDArray tokens, Function<NDManager, ForwardPass> passOn) {
        NDManager caller = tokens.getManager();
        try (NDManager scope = caller.newSubManager()) {
            NDArray logits = forward(tokens, passOn.apply(scope));
            logits.attach(caller);
            return logits;
        }
    }

    /**
     * The architecture's layers from token ids [batch, time] to logits [batch, time, vocab], on the pass's scope.
     */
    protected abstract NDArray forward(NDArray tokens, ForwardPass pass);
}
