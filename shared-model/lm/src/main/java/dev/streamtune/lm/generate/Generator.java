package dev.streamtune.lm.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.attention.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Continues prompts with a key/value cache: the prompts go through the model once (left-padded to a common length),
 * then each step feeds one token per row. Rows stop on their own at a stop token or when they reach
 * {@code maxNewTokens}; the batch ends when every row has stopped, or when the longest row reaches the model's last
 * position (the rows share one cache, so the longest prompt bounds the others).
 */
public final class Generator {

    /** Why a row stopped: by itself (a stop token or stop sequence), or cut off. */
    public enum Finish {
        STOP_TOKEN,
        MAX_NEW_TOKENS,
        CONTEXT_FULL
    }

    /** The tokens generated after a prompt (the stop token included when one ended it). */
    public record Completion(int[] tokens, Finish finish) {}

    private final CausalLm model;

    public Generator(CausalLm model) {
        this.model = model;
    }

    public Completion generate(int[] prompt, GenerationConfig config, NDManager manager) {
        return generate(List.of(prompt), config, manager).get(0);
    }

    public List<Completion> generate(List<int[]> prompts, GenerationConfig config, NDManager manager) {
        int rows = prompts.size();
        if (config.maxNewTokens() == 0) {
            return prompts.stream()
                    .map(p -> new Completion(new int[0], Finish.MAX_NEW_TOKENS))
                    .toList();
        }
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        int[] padding = new int[rows];
        int[][] history = new int[rows][];
        int[] historyLength = new int[rows];
        int[][] batch = new int[rows][longest];
        SplittableRandom seeds = new SplittableRandom(config.seed());
        SplittableRandom[] randoms = new SplittableRandom[rows];
        for (int row = 0; row < rows; row++) {
            int[] prompt = prompts.get(row);
            if (prompt.length == 0) {
                throw new IllegalArgumentException(
                        "prompt " + row + " is empty: generation needs at least one token (BOS)");
            }
            if (prompt.length >= model.maxPositions()) {
                throw new IllegalArgumentException("prompt " + row + " has " + prompt.length
                        + " tokens; the model's context" + " holds " + model.maxPositions());
            }
            padding[row] = longest - prompt.length;
            System.arraycopy(prompt, 0, batch[row], padding[row], prompt.length); // padding id 0: never attended to
            // Room for what can be generated: never past the context, whatever max_new_tokens asks for.
            history[row] = Arrays.copyOf(
                    prompt, (int) Math.min((long) prompt.length + config.maxNewTokens(), model.maxPositions()));
            historyLength[row] = prompt.length;
            randoms[row] = seeds.split();
        }
        LogitsWarper warper = new LogitsWarper(config);
        List<List<Integer>> generated = new ArrayList<>();
        Finish[] finish = new Finish[rows];
        for (int row = 0; row < rows; row++) {
            generated.add(new ArrayList<>());
        }
        try (KvCache cache = new KvCache(model.layers(), padding, manager)) {
            int[][] input = batch;
            int running = rows;
            while (running > 0) {
                int[] next = new int[rows];
                try (NDManager step = manager.newSubManager()) {
                    NDArray tokens = step.create(input);
                    NDArray logits = model.forward(tokens, cache);
                    long vocab = logits.getShape().get(2);
                    float[] last = logits.get(new NDIndex(":, -1, :")).toFloatArray();
                    for (int row = 0; row < rows; row++) {
                        if (finish[row] != null) {
                            continue;
                        }
                        float[] rowLogits = Arrays.copyOfRange(last, (int) (row * vocab), (int) ((row + 1) * vocab));
                        next[row] = warper.choose(rowLogits, history[row], historyLength[row], randoms[row]);
                    }
                }
                for (int row = 0; row < rows; row++) {
                    if (finish[row] != null) {
                        continue; // a stopped row is fed its last token again; its output is no longer read
                    }
                    generated.get(row).add(next[row]);
                    history[row][historyLength[row]++] = next[row];
                    if (config.stopTokens().contains(next[row]) || config.endsWithStopSequence(generated.get(row))) {
                        finish[row] = Finish.STOP_TOKEN;
                    } else if (generated.get(row).size() >= config.maxNewTokens()) {
                        finish[row] = Finish.MAX_NEW_TOKENS;
                    } else if (cache.length() + 1 >= model.maxPositions()) {
                        // The longest row now fills every position (this token sits at the last one); the rows share
                        // one cache, so all of them stop here.
                        finish[row] = Finish.CONTEXT_FULL;
                    }
                    if (finish[row] != null) {
                        running--;
                    }
                }
                input = new int[rows][1];
                for (int row = 0; row < rows; row++) {
                    input[row][0] = history[row][historyLength[row] - 1];
                }
            }
        }
        List<Completion> completions = new ArrayList<>();
        for (int row = 0; row < rows; row++) {
            completions.add(new Completion(
                    generated.get(row).stream().mapToInt(Integer::intValue).toArray(), finish[row]));
        }
        return completions;
    }
}
