package dev.streamtune.lm;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.lm.gpt2.Gpt2Config;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.LlamaWeights;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.quant.FourBitConfig;
import dev.streamtune.lm.runtime.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a base model comes from, known from its configuration alone (so that a recipe can be checked against it
 * before any weight is read): a Hugging Face folder (model_type llama, qwen2, olmo2 or gpt2), a llama2.c
 * {@code .bin}, or a Llama shape to build from scratch with {@link RandomInit}.
 *
 * @param path the folder or file; null for a model built from scratch
 */
public record ModelSource(Kind kind, Path path, LlamaConfig llama, Gpt2Config gpt2) {

    public enum Kind {
        HF_LLAMA,
        HF_GPT2,
        LLAMA2C,
        LLAMA_FROM_SCRATCH;

        public boolean llamaFamily() {
            return this != HF_GPT2;
        }
    }

    /** Reads the configuration of the model at {@code path}, a folder with a config.json or a llama2.c file. */
    public static ModelSource at(Path path) throws IOException {
        if (Files.isRegularFile(path)) {
            return new ModelSource(Kind.LLAMA2C, path, Llama2cCheckpoint.config(path), null);
        }
        Path config = path.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new IOException(path + " is neither a llama2.c checkpoint file nor a folder with a config.json");
        }
        String modelType =
                new ObjectMapper().readTree(config.toFile()).path("model_type").asText("llama");
        if (modelType.equals("gpt2")) {
            return new ModelSource(Kind.HF_GPT2, path, null, Gpt2Config.read(config));
        }
        return new ModelSource(Kind.HF_LLAMA, path, HfLlamaCheckpoint.config(config), null);
    }

    public static ModelSource fromScratch(LlamaConfig config) {
        return new ModelSource(Kind.LLAMA_FROM_SCRATCH, null, config, null);
    }

    /** How many parameters the model holds, from its configuration: nothing is loaded ({@link DecoderConfig}). */
    public long parameters() {
        return llama != null ? llama.parameters() : gpt2.parameters();
    }

    public int vocabSize() {
        return llama != null ? llama.vocabSize() : gpt2.vocabSize();
    }

    public int layers() {
        return llama != null ? llama.layers() : gpt2.layers();
    }

    public int heads() {
        return llama != null ? llama.heads() : gpt2.heads();
    }

    public int headDim() {
        return llama != null ? llama.headDim() : gpt2.headDim();
    }

    public int maxPositions() {
        return llama != null ? llama.maxPositions() : gpt2.positions();
    }

    /** The modules LoRA may target, by the names PEFT gives them. */
    public List<String> linearModules() {
        return llama != null ? llama.linearModules() : gpt2.linearModules();
    }

    /**
     * The model with its weights on {@code manager}'s device, in the precision's compute dtype; a model from scratch
     * is drawn from {@code seed}, so the same recipe always starts from the same weights.
     */
    public CausalLm load(long seed, Precision precision, NDManager manager) throws IOException {
        return load(seed, precision, null, manager);
    }

    /**
     * As {@link #load(long, Precision, NDManager)}, with the linear layers then held in 4 bits when
     * {@code quantization} is given (QLoRA's frozen base: a Llama's q/k/v/o/gate/up/down, GPT-2's Conv1D layers).
     */
    public CausalLm load(long seed, Precision precision, FourBitConfig quantization, NDManager manager)
            throws IOException {
        if (quantization == null) {
            return dense(seed, precision, manager);
        }
        // Read (or draw) and quantise on the host, so that the device only ever holds the 4-bit layers: a 7B model
        // in bfloat16 would not fit the GPU that QLoRA is meant for before its quantisation.
        try (NDManager host = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            if (kind == Kind.HF_GPT2) {
                return Gpt2Model.read(path, Precision.FLOAT32, host)
                        .quantizedOnto(quantization.type(), quantization.doubleQuant(), precision, manager);
            }
            LlamaModel staged = (LlamaModel) dense(seed, Precision.FLOAT32, host);
            LlamaWeights weights = staged.weights()
                    .quantizedOnto(
                            staged.linearModules().stream()
                                    .map(module -> module + ".weight")
                                    .toList(),
                            quantization.type(),
                            quantization.doubleQuant(),
                            manager);
            weights.convertTo(precision);
            return new LlamaModel(staged.config(), weights, precision, manager);
        }
    }

    private CausalLm dense(long seed, Precision precision, NDManager manager) throws IOException {
        return switch (kind) {
            case HF_GPT2 -> Gpt2Model.read(path, precision, manager);
            case HF_LLAMA -> llama(HfLlamaCheckpoint.read(path, manager), precision, manager);
            case LLAMA2C -> llama(Llama2cCheckpoint.read(path, manager), precision, manager);
            case LLAMA_FROM_SCRATCH ->
                new LlamaModel(llama, RandomInit.llama(llama, seed, precision.compute(), manager), precision, manager);
        };
    }

    private static LlamaModel llama(Llama2cCheckpoint.Loaded loaded, Precision precision, NDManager manager) {
        loaded.weights().convertTo(precision);
        return new LlamaModel(loaded.config(), loaded.weights(), precision, manager);
    }

    /** One line for logs and status views. */
    public String describe() {
        String shape = llama != null
                ? "llama hidden " + llama.hiddenSize() + ", " + llama.layers() + " layers, " + llama.heads() + " heads"
                : "gpt2 n_embd " + gpt2.embedding() + ", " + gpt2.layers() + " layers, " + gpt2.heads() + " heads";
        return (path == null ? "from scratch: " : path + ": ") + shape + ", vocabulary " + vocabSize();
    }
}
