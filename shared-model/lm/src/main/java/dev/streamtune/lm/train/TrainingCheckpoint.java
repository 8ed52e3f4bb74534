package dev.streamtune.lm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.lm.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to continue a run exactly where it stopped, in a folder laid out like a Hugging Face Trainer
 * checkpoint: {@code trainer_state.json} (global step, seed), {@code trainable.safetensors} (the trainable tensors
 * by name: LoRA/DoRA, JoLA or full weights) and {@code optimizer.safetensors} (AdamW's moments and step). The
 * learning-rate schedule is a function of the step, and randomness is reseeded per step
 * ({@link TrainingRandomness}), so neither needs more state.
 *
 * <p>This is the resume format; the artefacts users take away (PEFT adapter folders, JoLA files, HF checkpoints)
 * are written by their own classes.
 */
public final class TrainingCheckpoint {

    public static final String STATE = "trainer_state.json";
    public static final String TRAINABLE = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Where a run stands: the next optimiser step to take is {@code globalStep}. */
    public record State(long globalStep, long seed) {}

    private TrainingCheckpoint() {}

    public static void save(Path folder, State state, List<NDArray> trainable, AdamW optimizer) throws IOException {
        Files.createDirectories(folder);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (NDArray parameter : trainable) {
            if (tensors.put(parameter.getName(), parameter) != null) {
                throw new IllegalArgumentException("two trainable tensors are named " + parameter.getName());
            }
        }
        Safetensors.write(folder.resolve(TRAINABLE), tensors, Map.of("format", "pt"));
        optimizer.save(folder.resolve(OPTIMIZER));
        ObjectNode json = JSON.createObjectNode();
        json.put("global_step", state.globalStep());
        json.put("seed", state.seed());
        json.put("trainable_tensors", trainable.size());
        JSON.writeValue(folder.resolve(STATE).toFile(), json);
    }

    /** Loads the trainable tensors into {@code trainable} (matched by name) and the optimiser's state. */
    public static State restore(Path folder, List<NDArray> trainable, AdamW optimizer, NDManager manager)
            throws IOException {
        JsonNode json = JSON.readTree(folder.resolve(STATE).toFile());
        if (!json.path("global_step").canConvertToLong() || !json.path("seed").canConvertToLong()) {
            throw new IOException(folder.resolve(STATE) + ": expected numeric global_step and seed");
        }
        try (NDManager scope = manager.newSubManager()) {
            Map<String, NDArray> saved = Safetensors.read(folder.resolve(TRAINABLE), scope);
            if (saved.size() != trainable.size()) {
                throw new IOException(folder.resolve(TRAINABLE) + " holds " + saved.size() + " tensors; the run trains "
                        + trainable.size());
            }
            boolean recording = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try {
                for (NDArray parameter : trainable) {
                    NDArray value = saved.get(parameter.getName());
                    if (value == null || !value.getShape().equals(parameter.getShape())) {
                        throw new IOException(folder.resolve(TRAINABLE) + ": " + parameter.getName()
                                + (value == null
                                        ? " is missing"
                                        : " has shape " + value.getShape() + ", expected " + parameter.getShape()));
                    }
                    parameter.set(new NDIndex("..."), value.toType(parameter.getDataType(), false));
                }
            } finally {
                JniUtils.setGradMode(recording);
            }
        }
        optimizer.restore(folder.resolve(OPTIMIZER));
        return new State(json.get("global_step").asLong(), json.get("seed").asLong());
    }
}
