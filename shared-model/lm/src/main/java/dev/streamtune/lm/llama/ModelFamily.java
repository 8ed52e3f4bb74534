package dev.streamtune.lm.llama;

/**
 * The Llama-shaped families this decoder runs. They share embeddings, RoPE, grouped-query attention and SwiGLU, and
 * differ in where the norms sit:
 * <ul>
 *   <li>Llama (2, 3.x, SmolLM, TinyLlama, llama2.c) and Qwen2/2.5 normalise each sublayer's input (pre-norm);
 *       Qwen2's q/k/v biases are ordinary tensors of its checkpoint.</li>
 *   <li>OLMo-2 normalises each sublayer's output before the residual add (post-norm), and normalises the whole
 *       projected query and key vectors (QK-norm) before splitting them into heads and rotating them.</li>
 * </ul>
 */
public enum ModelFamily {
    LLAMA("llama", "LlamaForCausalLM"),
    QWEN2("qwen2", "Qwen2ForCausalLM"),
    OLMO2("olmo2", "Olmo2ForCausalLM");

    private final String modelType;
    private final String architecture;

    ModelFamily(String modelType, String architecture) {
        this.modelType = modelType;
        this.architecture = architecture;
    }

    /** {@code model_type} in config.json. */
    public String modelType() {
        return modelType;
    }

    /** The transformers class named in config.json's {@code architectures}. */
    public String architecture() {
        return architecture;
    }

    /** h = x + Norm(Sublayer(x)) instead of h = x + Sublayer(Norm(x)). */
    public boolean postNorm() {
        return this == OLMO2;
    }

    /** RMSNorm over the whole projected query and key vectors, before RoPE. */
    public boolean qkNorm() {
        return this == OLMO2;
    }

    /**
     * RMSNorm multiplies by its weight before casting back to the activations' dtype (OLMo-2), rather than after
     * (Llama, Qwen2). The same in float32; it matters only when the norm's arithmetic is wider than the activations.
     */
    public boolean normScaledWide() {
        return this == OLMO2;
    }

    public static ModelFamily ofModelType(String modelType) {
        for (ModelFamily family : values()) {
            if (family.modelType.equals(modelType)) {
                return family;
            }
        }
        throw new IllegalArgumentException("model_type '" + modelType
                + "' is not a Llama-family model this runtime reads" + " (llama, qwen2, olmo2)");
    }
}
