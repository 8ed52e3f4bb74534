package dev.streamtune.lm.gpt2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.lm.DecoderConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** GPT-2's shape, from its config.json ({@code n_inner: null} means 4 * n_embd). */
public record Gpt2Config(
        int embedding,
        int layers,
        int heads,
        int inner,
        int positions,
        int vocabSize,
        double layerNormEps,
        String activation)
        implements DecoderConfig {

    public Gpt2Config {
        if (embedding % heads != 0) {
            throw new IllegalArgumentException("n_embd " + embedding + " is not a multiple of n_head " + heads);
        }
        if (!activation.equals("gelu_new")) {
            throw new IllegalArgumentException(
                    "activation_function '" + activation + "' is not supported; GPT-2 uses gelu_new");
        }
    }

    @Override
    public int headDim() {
        return embedding / heads;
    }

    @Override
    public int maxPositions() {
        return positions;
    }

    /** c_attn (q/k/v in one product), the MLP's c_fc or the output head, whichever is largest. */
    @Override
    public double largestProductFlops(long tokens) {
        long out = Math.max(Math.max(3L * embedding, inner), vocabSize);
        return 2.0 * tokens * embedding * out;
    }

    /**
     * Hugging Face names of the Conv1D layers a fine-tuning method may target, as PEFT names them on
     * GPT2LMHeadModel ({@code transformer.h.0.attn.c_attn}), the output head excluded.
     */
    @Override
    public List<String> linearModules() {
        List<String> modules = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            for (String name : List.of("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")) {
                modules.add("transformer.h." + layer + "." + name);
            }
        }
        return modules;
    }

    public static Gpt2Config read(Path file) throws IOException {
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        if (!json.path("model_type").asText().equals("gpt2")) {
            throw new IOException(
                    file + ": model_type '" + json.path("model_type").asText() + "' is not gpt2");
        }
        int embedding = json.path("n_embd").asInt();
        JsonNode inner = json.get("n_inner");
        return new Gpt2Config(
                embedding,
                json.path("n_layer").asInt(),
                json.path("n_head").asInt(),
                inner == null || inner.isNull() ? 4 * embedding : inner.asInt(),
                json.path("n_positions").asInt(1024),
                json.path("vocab_size").asInt(),
                json.path("layer_norm_epsilon").asDouble(1e-5),
                json.path("activation_function").asText("gelu_new"));
    }

    /** Token and position embeddings, per block two layer norms, c_attn, c_proj and the MLP with their biases. */
    @Override
    public long parameters() {
        long e = embedding;
        long block = 2 * (2 * e) + (e * 3 * e + 3 * e) + (e * e + e) + (e * inner + inner) + ((long) inner * e + e);
        return (long) vocabSize * e + (long) positions * e + (long) layers * block + 2 * e;
    }
}
