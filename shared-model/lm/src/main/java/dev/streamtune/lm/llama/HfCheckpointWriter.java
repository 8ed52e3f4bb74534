package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.runtime.Compute;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a Llama-family model (Llama, Qwen2, OLMo-2) as a Hugging Face checkpoint folder that transformers loads: {@code config.json} and
 * {@code model.safetensors} ({format: pt}). Weights of a model with llama2.c's interleaved rotary pairs are
 * converted on the way (the query and key rows of each head permuted to the halves layout), as Hugging Face's own
 * conversion script does; a tied head is not written.
 */
public final class HfCheckpointWriter {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfCheckpointWriter() {}

    public static void write(Path folder, LlamaConfig config, LlamaWeights weights) throws IOException {
        Files.createDirectories(folder);
        try (NDManager scope = Compute.newManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            weights.asMap().forEach((name, tensor) -> {
                if (config.tiedEmbeddings() && name.equals("lm_head.weight")) {
                    return;
                }
                String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
                tensors.put(name, RotaryRows.toHuggingFace(config, module, tensor, scope));
            });
            Safetensors.write(folder.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        }
        boolean attentionBias = weights.find("model.layers.0.self_attn.q_proj.bias") != null;
        JSON.writeValue(folder.resolve("config.json").toFile(), config(config, attentionBias));
    }

    private static ObjectNode config(LlamaConfig config, boolean attentionBias) {
        ObjectNode json = JSON.createObjectNode();
        json.putArray("architectures").add(config.family().architecture());
        json.put("model_type", config.family().modelType());
        json.put("hidden_size", config.hiddenSize());
        json.put("intermediate_size", config.intermediateSize());
        json.put("num_hidden_layers", config.layers());
        json.put("num_attention_heads", config.heads());
        json.put("num_key_value_heads", config.kvHeads());
        json.put("head_dim", config.headDim());
        json.put("vocab_size", config.vocabSize());
        json.put("max_position_embeddings", config.maxPositions());
        json.put("rms_norm_eps", config.rmsNormEps());
        json.put("rope_theta", config.ropeTheta());
        if (config.ropeScaling() != null) {
            ObjectNode scaling = json.putObject("rope_scaling");
            scaling.put("rope_type", "llama3");
            scaling.put("factor", config.ropeScaling().factor());
            scaling.put("low_freq_factor", config.ropeScaling().lowFreqFactor());
            scaling.put("high_freq_factor", config.ropeScaling().highFreqFactor());
            scaling.put("original_max_position_embeddings", config.ropeScaling().originalMaxPositions());
        } else {
            json.putNull("rope_scaling");
        }
        json.put("hidden_act", "silu");
        if (config.family() != ModelFamily.QWEN2) { // Qwen2 always has q/k/v biases and no such field
            json.put("attention_bias", attentionBias);
        }
        json.put("tie_word_embeddings", config.tiedEmbeddings());
        json.put("torch_dtype", "float32");
        return json;
    }
}
