package dev.streamtune.lm.jola;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.SafetensorsHeader;
import dev.streamtune.lm.runtime.Compute;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JolaFileTest {

    @TempDir
    Path folder;

    @Test
    void savesOnlyTheJolaTensorsUnderTheAuthorsNamesAndLoadsThemBack() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(9);
            JolaGates gates = new JolaGates(2, 3, 4, manager);

            JolaFile.save(folder, gates, "expon", 4e-5, JolaGates.Penalty.CODED);

            SafetensorsHeader header = Safetensors.header(folder.resolve(JolaFile.WEIGHTS));
            assertThat(header.tensors()).hasSize(2 * (3 + 3 + 2));
            assertThat(header.tensor("model.layers.1.self_attn.attn_A.2").shape())
                    .containsExactly(4);
            assertThat(header.tensor("model.layers.0.self_attn.attn_v.0").shape())
                    .containsExactly(4);
            assertThat(header.tensor("model.layers.1.self_attn.log_g2").shape()).containsExactly(3, 1);
            JsonNode config =
                    new ObjectMapper().readTree(folder.resolve(JolaFile.CONFIG).toFile());
            assertThat(config.path("gate_scheduler").asText()).isEqualTo("expon");
            assertThat(config.path("penalty").asText()).isEqualTo("coded");

            JolaGates loaded = JolaFile.load(folder, manager);
            for (int i = 0; i < gates.parameters().size(); i++) {
                NDArray original = gates.parameters().get(i);
                assertThat(loaded.parameters().get(i).toFloatArray())
                        .as(original.getName())
                        .containsExactly(original.toFloatArray());
            }
        }
    }

    /**
     * A thread of its own has PyTorch's grad mode on (as a scoring thread does, and any thread after a gradient
     * collector): loading still writes the saved values into the fresh, trainable gates, and leaves the mode as found.
     */
    @Test
    void loadsOnAThreadWhoseGradModeIsOn() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(10);
            JolaGates gates = new JolaGates(2, 3, 4, manager);
            gates.setLogAlphas(1, -10f);
            JolaFile.save(folder, gates, "expon", 4e-5, JolaGates.Penalty.CODED);
            AtomicReference<Object> outcome = new AtomicReference<>();
            Thread loader = new Thread(() -> {
                try {
                    JniUtils.setGradMode(true);
                    JolaGates loaded = JolaFile.load(folder, manager);
                    outcome.set(JniUtils.isGradMode() ? loaded : "grad mode not restored");
                } catch (Exception | Error e) {
                    outcome.set(e);
                }
            });
            loader.start();
            loader.join();
            assertThat(outcome.get()).isInstanceOf(JolaGates.class);
            JolaGates loaded = (JolaGates) outcome.get();
            for (int i = 0; i < gates.parameters().size(); i++) {
                assertThat(loaded.parameters().get(i).toFloatArray())
                        .containsExactly(gates.parameters().get(i).toFloatArray());
            }
            assertThat(loaded.evaluationGates(1, manager)[0]).containsOnly(0f);
        }
    }
}
