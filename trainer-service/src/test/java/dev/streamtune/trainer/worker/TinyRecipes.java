package dev.streamtune.trainer.worker;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.TrainBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Recipes over a Llama built from scratch on a 32-word vocabulary (a real Hugging Face tokenizer.json, WordLevel,
 * written into a model root), small enough that a run's whole life, thousands of events, trains in seconds, and
 * the batches such a run trains: batch i of a recipe is always the same rows.
 */
final class TinyRecipes {

    static final int VOCABULARY = 32;
    static final int ROWS = 2;
    static final int TIME = 12;

    private TinyRecipes() {}

    /** Writes the tokenizer under {@code modelRoot}/tiny/ and returns the root. */
    static Path modelRoot(Path folder) throws IOException {
        StringBuilder vocab = new StringBuilder("\"<unk>\": 0");
        for (int i = 1; i < VOCABULARY; i++) {
            vocab.append(", \"w").append(i).append("\": ").append(i);
        }
        Path tokenizer = folder.resolve("tiny/tokenizer.json");
        Files.createDirectories(tokenizer.getParent());
        Files.writeString(tokenizer, """
                {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
                 "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {%s}, "unk_token": "<unk>"}}
                """.formatted(vocab));
        return folder;
    }

    /** The fine-tuning method's section of a recipe. */
    enum Method {
        LORA("lora_config:\n  r: 4\n  lora_alpha: 8\n  lora_dropout: 0.1\n  target_modules: [q_proj, v_proj]\n"),
        JOLA("jola_config:\n  gate_scheduler: expon\n  gate_lambda: 0.0004\n"),
        FULL("");

        final String section;

        Method(String section) {
            this.section = section;
        }
    }

    /**
     * A recipe: {@code length} is "max_steps: N", "num_train_epochs: N" or "" (the stream as it comes), with
     * {@code training} added to its training_config and {@code hidden} the model's width (a changed model).
     */
    static String recipe(String id, Method method, int hidden, String length, String training) {
        return recipe(id, method, hidden, 2e-2, length, training);
    }

    /** A recipe as above with its own learning rate (another version of a recipe on the same model). */
    static String recipe(String id, Method method, int hidden, double learningRate, String length, String training) {
        return """
                id: %s
                model_config:
                  architecture: llama
                  tokenizer: tiny/tokenizer.json
                  hidden_size: %d
                  intermediate_size: %d
                  num_hidden_layers: 2
                  num_attention_heads: 2
                data_config:
                  max_seq_length: %d
                training_config:
                %s  learning_rate: %s
                  seed: 3
                %s%s%s""".formatted(
                        id,
                        hidden,
                        2 * hidden,
                        TIME,
                        method == Method.FULL ? "  finetuning_type: full\n" : "",
                        learningRate,
                        length.isEmpty() ? "" : "  " + length + "\n",
                        training.isEmpty() ? "" : training.indent(2),
                        method.section);
    }

    /** Batch {@code index} of {@code recipeId}: ROWS rows of TIME tokens, every one but the first trained. */
    static TrainBatch batch(String recipeId, int index) {
        Random random = new Random(31L * index + 7);
        List<PackedSequence> rows = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        long trained = 0;
        for (int r = 0; r < ROWS; r++) {
            int[] ids = random.ints(TIME, 1, VOCABULARY).toArray();
            int[] labels = ids.clone();
            labels[0] = PackedSequence.IGNORE_INDEX;
            int[] positions = new int[TIME];
            Arrays.setAll(positions, i -> i);
            rows.add(new PackedSequence(
                    TokenIds.of(ids), TokenIds.of(labels), TokenIds.of(positions), List.of(0), TIME, TIME - 1));
            keys.add(recipeId + ":conversation-" + index + "-" + r);
            trained += TIME - 1;
        }
        return new TrainBatch(
                TrainBatch.SCHEMA_VERSION,
                recipeId,
                index,
                TIME,
                rows,
                trained,
                (long) ROWS * TIME,
                keys,
                Map.of(0, (long) index),
                Instant.parse("2026-12-01T00:00:00Z"));
    }
}
