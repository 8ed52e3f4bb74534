package dev.streamtune.lm.adapters;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.runtime.Compute;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * LoRA and DoRA adapters as Hugging Face PEFT saves them, so that PEFT loads ours and we load PEFT's: a folder with
 * {@code adapter_config.json} and {@code adapter_model.safetensors} (metadata {"format": "pt"}), tensors named
 * {@code base_model.model.<module>.lora_A.weight} [r, in], {@code ...lora_B.weight} [out, r] and, for DoRA,
 * {@code ...lora_magnitude_vector} [out] (PEFT drops the ".weight" of its DoRA layer when saving).
 *
 * <p>The file is in the Hugging Face layout of the base model's rows, whatever layout the model computes in: for a
 * llama2.c base, whose query and key rows pair rotary dimensions differently, lora_B's and the magnitude's rows of
 * {@code q_proj} and {@code k_proj} are permuted on the way out and back ({@link CausalLm#rowsToHuggingFace}), so
 * that the adapter applies to that model converted to Hugging Face (as the merged export and full fine-tuning
 * folders are), and an adapter PEFT trained on such a conversion applies here.
 */
public final class PeftAdapterFolder {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    private static final String PREFIX = "base_model.model.";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PeftAdapterFolder() {}

    static String key(String module, String matrix) {
        return PREFIX + module + "." + matrix + ".weight";
    }

    static String magnitudeKey(String module) {
        return PREFIX + module + "." + MAGNITUDE;
    }

    private static final String MAGNITUDE = "lora_magnitude_vector";

    /**
     * @param model the base model the adapters belong to (its layout of rows); target_modules is written as the
     *              adapters were configured with it (names, or one regex string)
     */
    public static void save(Path folder, LoraAdapters adapters, CausalLm model, String baseModel) throws IOException {
        Files.createDirectories(folder);
        LoraSpec spec = adapters.spec();
        ObjectNode config = JSON.createObjectNode();
        config.put("peft_type", "LORA");
        config.put("task_type", "CAUSAL_LM");
        config.put("base_model_name_or_path", baseModel);
        config.put("r", spec.r());
        config.put("lora_alpha", spec.alpha());
        config.put("lora_dropout", spec.dropout());
        config.set("target_modules", JSON.valueToTree(spec.targets()));
        config.put("bias", "none");
        config.put("fan_in_fan_out", spec.fanInFanOut());
        config.put("use_rslora", spec.rsLora());
        config.put("use_dora", spec.useDora());
        config.put("init_lora_weights", true);
        config.putNull("modules_to_save");
        config.put("lora_bias", false);
        config.putObject("rank_pattern");
        config.putObject("alpha_pattern");
        config.put("inference_mode", true);
        JSON.writeValue(folder.resolve(CONFIG).toFile(), config);
        try (NDManager scope = Compute.newManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            // A's columns are the layer's inputs: only B's and the magnitude's rows have a layout
            adapters.weights()
                    .forEach((module, layer) -> tensors.putAll(adapters.variant()
                            .tensors(module, layer.withRows(rows -> model.rowsToHuggingFace(module, rows, scope)))));
            Safetensors.write(folder.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        }
    }

    /**
     * Loads a PEFT LoRA or DoRA folder (ours or PEFT's) for {@code model}, in the model's layout of rows (see the
     * class comment).
     */
    public static LoraAdapters load(Path folder, CausalLm model, NDManager manager, boolean trainable)
            throws IOException {
        Saved saved = read(folder, manager);
        Map<String, LoraWeights> pairs = new LinkedHashMap<>();
        for (Map.Entry<String, LoraWeights> entry : saved.weights().entrySet()) {
            String module = entry.getKey();
            LoraWeights pair = entry.getValue();
            try {
                pairs.put(module, pair.withRows(rows -> own(model.rowsFromHuggingFace(module, rows, manager), rows)));
            } catch (IllegalArgumentException wrongRows) {
                throw new IOException(
                        folder.resolve(WEIGHTS) + ": module " + module + " does not fit the model: "
                                + wrongRows.getMessage(),
                        wrongRows);
            }
        }
        return new LoraAdapters(saved.spec(), pairs, manager, trainable);
    }

    /** {@code converted}, closing the file's {@code original} when the conversion made a new array. */
    private static NDArray own(NDArray converted, NDArray original) {
        if (converted != original) {
            original.close();
        }
        return converted;
    }

    /**
     * Loads a PEFT LoRA or DoRA folder (ours or PEFT's) as the file holds it, in the Hugging Face layout: to inspect
     * it, or for a model in that layout; {@link #load(Path, CausalLm, NDManager, boolean)} to apply it to a model.
     * Per-module rank/alpha patterns are refused for now.
     */
    public static LoraAdapters load(Path folder, NDManager manager, boolean trainable) throws IOException {
        Saved saved = read(folder, manager);
        return new LoraAdapters(saved.spec(), saved.weights(), manager, trainable);
    }

    /** An adapter as its folder holds it: the configuration and each module's tensors. */
    private record Saved(LoraSpec spec, Map<String, LoraWeights> weights) {}

    private static Saved read(Path folder, NDManager manager) throws IOException {
        JsonNode config = JSON.readTree(folder.resolve(CONFIG).toFile());
        if (!"LORA".equals(config.path("peft_type").asText())) {
            throw new IOException(folder.resolve(CONFIG) + ": peft_type " + config.path("peft_type") + " is not LORA");
        }
        if (!config.path("rank_pattern").isEmpty()
                || !config.path("alpha_pattern").isEmpty()) {
            throw new IOException(
                    folder.resolve(CONFIG) + ": per-module rank_pattern/alpha_pattern are not supported yet");
        }
        JsonNode targets = config.path("target_modules");
        TargetModules targetModules;
        if (targets.isTextual()) {
            targetModules = TargetModules.of(targets.asText());
        } else {
            List<String> names = new ArrayList<>();
            targets.forEach(name -> names.add(name.asText()));
            targetModules = TargetModules.of(names);
        }
        LoraSpec spec = new LoraSpec(
                config.path("r").asInt(8),
                config.path("lora_alpha").asDouble(8),
                config.path("lora_dropout").asDouble(0),
                targetModules,
                config.path("use_rslora").asBoolean(false),
                config.path("use_dora").asBoolean(false),
                config.path("fan_in_fan_out").asBoolean(false));
        Path weights = folder.resolve(WEIGHTS);
        Map<String, ModuleTensors> modules = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> tensor :
                Safetensors.read(weights, manager).entrySet()) {
            String name = tensor.getKey()
                    .replace(".lora_A.default.weight", ".lora_A.weight")
                    .replace(".lora_B.default.weight", ".lora_B.weight");
            // DoRA's magnitude: "...lora_magnitude_vector" as PEFT saves it; ".default(.weight)" in raw state dicts.
            name = name.replaceAll("\\.lora_magnitude_vector(\\.default)?(\\.weight)?$", "." + MAGNITUDE);
            if (name.startsWith(PREFIX) && name.endsWith("." + MAGNITUDE)) {
                String module = name.substring(PREFIX.length(), name.length() - MAGNITUDE.length() - 1);
                modules.computeIfAbsent(module, ModuleTensors::new).magnitude = tensor;
                continue;
            }
            if (!name.startsWith(PREFIX) || !(name.endsWith(".lora_A.weight") || name.endsWith(".lora_B.weight"))) {
                throw new IOException(weights + ": unexpected tensor " + tensor.getKey());
            }
            String module = name.substring(PREFIX.length(), name.length() - ".lora_A.weight".length());
            ModuleTensors found = modules.computeIfAbsent(module, ModuleTensors::new);
            if (name.endsWith(".lora_A.weight")) {
                found.a = tensor;
            } else {
                found.b = tensor;
            }
        }
        List<String> unpaired = new ArrayList<>();
        modules.values().forEach(module -> unpaired.addAll(module.unpaired()));
        if (!unpaired.isEmpty()) {
            throw new IOException(
                    weights + ": incomplete adapter, tensors without their partner: " + String.join(", ", unpaired));
        }
        Map<String, LoraWeights> pairs = new LinkedHashMap<>();
        for (ModuleTensors module : modules.values()) {
            NDArray a = module.a.getValue();
            NDArray b = module.b.getValue();
            if (a.getShape().get(0) != spec.r() || b.getShape().get(1) != spec.r()) {
                throw new IOException(weights + ": module " + module.name + " has lora_A " + a.getShape()
                        + " and lora_B " + b.getShape() + ", not of rank r = " + spec.r() + " from " + CONFIG);
            }
            NDArray magnitude = module.magnitude == null ? null : module.magnitude.getValue();
            if (spec.useDora()
                    && (magnitude == null
                            || magnitude.getShape().get(0) != b.getShape().get(0))) {
                throw new IOException(weights + ": use_dora is set but module " + module.name
                        + " has no lora_magnitude_vector of " + b.getShape().get(0) + " rows");
            }
            if (!spec.useDora() && magnitude != null) {
                throw new IOException(weights + ": module " + module.name + " has a DoRA magnitude but " + CONFIG
                        + " does not set use_dora");
            }
            pairs.put(module.name, new LoraWeights(a, b, magnitude));
        }
        return new Saved(spec, pairs);
    }

    /** The tensors an adapter file holds for one adapted module, under the names the file gives them. */
    private static final class ModuleTensors {
        private final String name;
        private Map.Entry<String, NDArray> a;
        private Map.Entry<String, NDArray> b;
        private Map.Entry<String, NDArray> magnitude;

        private ModuleTensors(String name) {
            this.name = name;
        }

        /** Each tensor of this module with what it lacks, when lora_A or lora_B is missing; none when both are. */
        private List<String> unpaired() {
            if (a != null && b != null) {
                return List.of();
            }
            String lacking = a == null && b == null ? "lora_A and lora_B" : a == null ? "lora_A" : "lora_B";
            return Stream.of(a, b, magnitude)
                    .filter(Objects::nonNull)
                    .map(tensor -> tensor.getKey() + " (no " + lacking + ")")
                    .toList();
        }
    }
}
