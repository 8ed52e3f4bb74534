package dev.streamtune.trainer.training;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.lm.tokenizer.Llama2cTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Training batches of real text in stories260K's vocabulary, packed as the tokenize stage packs them: documents end
 * to end in fixed-length rows, each starting with BOS, prompt tokens (the first words) not trained, padding
 * after the last document.
 */
public final class StoryBatches {

    static final String[] STORIES = {
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun.",
        "Tom had a big red ball. He liked to kick it high in the sky with his friend Sam.",
        "One day, a cat saw a bird in the tree. The cat wanted to play, but the bird flew away.",
        "The sun was warm and the grass was green. Mom and Ben went to the park to see the ducks.",
        "Sara found a shiny stone by the river. She put it in her pocket and ran home to show Dad.",
        "The little dog was sad because it was raining. Then the sun came out and the dog was happy."
    };

    private StoryBatches() {}

    /** {@code count} batches of {@code rows} rows of {@code time} tokens, cycling through the stories. */
    public static List<TrainBatch> make(Path tokenizerFile, String recipeId, int count, int rows, int time)
            throws IOException {
        Llama2cTokenizer tokenizer = Llama2cTokenizer.read(tokenizerFile, 512);
        List<TrainBatch> batches = new ArrayList<>();
        int story = 0;
        for (int b = 0; b < count; b++) {
            List<PackedSequence> sequences = new ArrayList<>();
            List<String> keys = new ArrayList<>();
            long trainable = 0;
            for (int r = 0; r < rows; r++) {
                int[] ids = new int[time];
                int[] labels = new int[time];
                int[] positions = new int[time];
                Arrays.fill(labels, PackedSequence.IGNORE_INDEX);
                List<Integer> starts = new ArrayList<>();
                int at = 0;
                while (true) {
                    int[] text = tokenizer.encode(STORIES[story % STORIES.length]);
                    int length = Math.min(text.length + 1, time - at);
                    if (length < 8 || (at > 0 && text.length + 1 > time - at)) {
                        break;
                    }
                    starts.add(at);
                    keys.add(recipeId + ":story-" + (story % STORIES.length) + "~" + (story / STORIES.length));
                    ids[at] = Llama2cTokenizer.BOS;
                    for (int i = 1; i < length; i++) {
                        ids[at + i] = text[i - 1];
                        positions[at + i] = i;
                        if (i >= 4) { // the first words are the prompt
                            labels[at + i] = text[i - 1];
                            trainable++;
                        }
                    }
                    at += length;
                    story++;
                }
                int trainedInRow = 0;
                for (int label : labels) {
                    trainedInRow += label == PackedSequence.IGNORE_INDEX ? 0 : 1;
                }
                sequences.add(new PackedSequence(
                        TokenIds.of(ids), TokenIds.of(labels), TokenIds.of(positions), starts, at, trainedInRow));
            }
            batches.add(new TrainBatch(
                    TrainBatch.SCHEMA_VERSION,
                    recipeId,
                    b,
                    time,
                    sequences,
                    trainable,
                    (long) rows * time,
                    keys,
                    Map.of(0, (long) b),
                    Instant.parse("2026-11-27T00:00:00Z")));
        }
        return batches;
    }
}
