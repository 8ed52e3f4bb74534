package dev.streamtune.lm.jola;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.runtime.Compute;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * JoLA's trained tensors in the authors' layout, loadable into their model with {@code load_state_dict(strict=False)}:
 * {@code jola_model.safetensors} holding only {@code model.layers.{l}.self_attn.attn_A.{h}} and {@code attn_v.{h}}
 * ([hd] per head) and {@code log_g1} / {@code log_g2} ([H, 1]), plus {@code jola_config.json} with the gate
 * hyper-parameters and the schedule.
 */
public final class JolaFile {

    public static final String WEIGHTS = "jola_model.safetensors";
    public static final String CONFIG = "jola_config.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JolaFile() {}

    public static void save(Path folder, JolaGates gates, String schedule, double gateLambda, JolaGates.Penalty penalty)
            throws IOException {
        Files.createDirectories(folder);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (int layer = 0; layer < gates.layers(); layer++) {
            String prefix = "model.layers." + layer + ".self_attn.";
            NDArray m = gates.parameters().get(4 * layer);
            NDArray a = gates.parameters().get(4 * layer + 1);
            for (int head = 0; head < m.getShape().get(0); head++) {
                tensors.put(prefix + "attn_A." + head, m.get(new NDIndex(head)));
            }
            for (int head = 0; head < a.getShape().get(0); head++) {
                tensors.put(prefix + "attn_v." + head, a.get(new NDIndex(head)));
            }
            tensors.put(prefix + "log_g1", gates.parameters().get(4 * layer + 2));
            tensors.put(prefix + "log_g2", gates.parameters().get(4 * layer + 3));
        }
        Safetensors.write(folder.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        ObjectNode config = JSON.createObjectNode();
        config.put("method", "jola");
        config.put("applied_module", "attention");
        config.put("num_layers", gates.layers());
        config.put("num_heads", gates.parameters().get(0).getShape().get(0));
        config.put("head_dim", gates.parameters().get(0).getShape().get(1));
        config.put("gate_scheduler", schedule);
        config.put("gate_lambda", gateLambda);
        config.put("penalty", penalty.name().toLowerCase(Locale.ROOT));
        config.put("hard_concrete_beta", HardConcrete.BETA);
        config.put("hard_concrete_l", HardConcrete.LOW);
        config.put("hard_concrete_r", HardConcrete.HIGH);
        config.putArray("applied_layers")
                .addAll(IntStream.range(0, gates.layers())
                        .mapToObj(JSON.getNodeFactory()::numberNode)
                        .toList());
        JSON.writeValue(folder.resolve(CONFIG).toFile(), config);
    }

    /** Loads saved gates into freshly initialised ones of the same shape (every tensor is replaced). */
    public static JolaGates load(Path folder, NDManager manager) throws IOException {
        // the fresh gates are trainable leaves: their values are written outside gradient recording
        return Compute.withoutGradients(() -> read(folder, manager));
    }

    private static JolaGates read(Path folder, NDManager manager) throws IOException {
        JsonNode config = JSON.readTree(folder.resolve(CONFIG).toFile());
        int layers = config.path("num_layers").asInt();
        int heads = config.path("num_heads").asInt();
        int headDim = config.path("head_dim").asInt();
        JolaGates gates = new JolaGates(layers, heads, headDim, manager);
        Map<String, NDArray> tensors = Safetensors.read(folder.resolve(WEIGHTS), manager);
        for (int layer = 0; layer < layers; layer++) {
            String prefix = "model.layers." + layer + ".self_attn.";
            for (int head = 0; head < heads; head++) {
                gates.parameters().get(4 * layer).set(new NDIndex(head), require(tensors, prefix + "attn_A." + head));
                gates.parameters()
                        .get(4 * layer + 1)
                        .set(new NDIndex(head), require(tensors, prefix + "attn_v." + head));
            }
            gates.parameters().get(4 * layer + 2).set(new NDIndex("..."), require(tensors, prefix + "log_g1"));
            gates.parameters().get(4 * layer + 3).set(new NDIndex("..."), require(tensors, prefix + "log_g2"));
        }
        return gates;
    }

    private static NDArray require(Map<String, NDArray> tensors, String name) throws IOException {
        NDArray tensor = tensors.get(name);
        if (tensor == null) {
            throw new IOException(WEIGHTS + " has no tensor " + name);
        }
        return tensor;
    }
}
