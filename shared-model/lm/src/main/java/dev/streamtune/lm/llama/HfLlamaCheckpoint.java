package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.lm.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Hugging Face Llama-family checkpoint folder (model_type llama, qwen2 or olmo2; Qwen2's q/k/v biases and
 * OLMo-2's extra norms are ordinary tensors of the checkpoint): {@code config.json} and {@code model.safetensors}, or the shards
 * listed by {@code model.safetensors.index.json}. Accepts {@code rope_theta} at the top level or under
 * {@code rope_parameters} (newer files).
 */
public final class HfLlamaCheckpoint {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HfLlamaCheckpoint() {}

    public static Llama2cCheckpoint.Loaded read(Path folder, NDManager manager) throws IOException {
        LlamaConfig config = config(folder.resolve("config.json"));
        LlamaWeights weights = new LlamaWeights();
        for (Path file : weightFiles(folder)) {
            for (Map.Entry<String, NDArray> tensor :
                    Safetensors.read(file, manager).entrySet()) {
                weights.put(tensor.getKey(), tensor.getValue());
            }
        }
        return new Llama2cCheckpoint.Loaded(config, weights);
    }

    public static LlamaConfig config(Path file) throws IOException {
        JsonNode json = JSON.readTree(file.toFile());
        ModelFamily family;
        try {
            family = ModelFamily.ofModelType(json.path("model_type").asText("llama"));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        int hidden = required(json, file, "hidden_size");
        int heads = required(json, file, "num_attention_heads");
        if (json.hasNonNull("head_dim") && json.get("head_dim").asInt() != hidden / heads) {
            throw new IOException(file + ": head_dim " + json.get("head_dim").asInt() + " differs from hidden_size /"
                    + " num_attention_heads = " + hidden / heads + ", which this runtime does not support yet");
        }
        // Older files: rope_theta and rope_scaling at the top level; newer ones: both under rope_parameters.
        JsonNode ropeParameters = json.path("rope_parameters");
        JsonNode scalingNode = json.hasNonNull("rope_scaling") ? json.get("rope_scaling") : ropeParameters;
        String ropeType =
                scalingNode.path("rope_type").asText(scalingNode.path("type").asText("default"));
        RopeScaling scaling = switch (ropeType) {
            case "default" -> null;
            case "llama3" ->
                new RopeScaling(
                        scalingNode.path("factor").asDouble(),
                        scalingNode.path("low_freq_factor").asDouble(),
                        scalingNode.path("high_freq_factor").asDouble(),
                        scalingNode.path("original_max_position_embeddings").asInt());
            default -> throw new IOException(file + ": rope scaling '" + ropeType + "' is not supported yet");
        };
        double theta = json.hasNonNull("rope_theta")
                ? json.get("rope_theta").asDouble()
                : ropeParameters.path("rope_theta").asDouble(10000.0);
        return new LlamaConfig(
                hidden,
                required(json, file, "intermediate_size"),
                required(json, file, "num_hidden_layers"),
                heads,
                json.path("num_key_value_heads").asInt(heads),
                required(json, file, "vocab_size"),
                json.path("max_position_embeddings").asInt(2048),
                theta,
                json.path("rms_norm_eps").asDouble(1e-6),
                RopeStyle.HALF,
                json.path("tie_word_embeddings").asBoolean(false),
                scaling,
                family);
    }

    private static Set<Path> weightFiles(Path folder) throws IOException {
        Path single = folder.resolve("model.safetensors");
        if (Files.exists(single)) {
            return Set.of(single);
        }
        Path index = folder.resolve("model.safetensors.index.json");
        if (!Files.exists(index)) {
            throw new IOException(folder + " has neither model.safetensors nor model.safetensors.index.json");
        }
        Set<Path> files = new LinkedHashSet<>();
        Iterator<JsonNode> shards =
                JSON.readTree(index.toFile()).path("weight_map").elements();
        while (shards.hasNext()) {
            Path shard = folder.resolve(shards.next().asText()).normalize();
            if (!shard.startsWith(folder.normalize())) {
                throw new IOException(index + " names a shard outside its folder: " + shard);
            }
            files.add(shard);
        }
        return files;
    }

    private static int required(JsonNode json, Path file, String field) throws IOException {
        if (!json.hasNonNull(field) || !json.get(field).canConvertToInt()) {
            throw new IOException(file + ": missing or invalid '" + field + "'");
        }
        return json.get(field).asInt();
    }
}
