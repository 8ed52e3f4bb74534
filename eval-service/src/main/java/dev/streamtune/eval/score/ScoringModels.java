package dev.streamtune.eval.score;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.events.CheckpointDigest;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.jola.JolaFile;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The models checkpoints are scored with. A recipe's base model is loaded once and kept (the least recently used one
 * is closed beyond {@code capacity}); a LoRA/DoRA adapter folder or a JoLA file is installed on it for one scoring
 * and taken off again, so the base never changes; a full Hugging Face checkpoint is loaded on its own and closed
 * after. Every checkpoint's files are checked against the checksum its announcement carried before anything of it is
 * read. Used by one scoring thread at a time; {@link #held} may be asked from any.
 */
public final class ScoringModels implements AutoCloseable {

    private record Loaded(String identity, NDManager manager, CausalLm model) {}

    private final int capacity;
    private final Precision precision;
    private final LinkedHashMap<String, Loaded> cache = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * The models in memory: the cached bases, and a full checkpoint while it is scored. Counted apart from the cache,
     * which the scoring thread holds locked for a whole scoring, so that a metrics scrape never waits for one.
     */
    private final AtomicInteger held = new AtomicInteger();

    public ScoringModels(int capacity) {
        this.capacity = Math.max(1, capacity);
        this.precision = Compute.precision(Compute.device());
    }

    public Precision precision() {
        return precision;
    }

    /** How many models this holds in memory now: each base kept loaded, and a full checkpoint being scored. */
    public int held() {
        return held.get();
    }

    /** The recipe's base model, loaded on first use. */
    public synchronized CausalLm base(String recipeId, RecipeModels.Base base) throws IOException {
        String identity = base.describe() + " seed " + base.seed();
        Loaded loaded = cache.get(recipeId);
        if (loaded != null && loaded.identity().equals(identity)) {
            return loaded.model();
        }
        if (loaded != null) {
            cache.remove(recipeId).manager().close();
            held.decrementAndGet();
        }
        NDManager manager = Compute.newManager();
        try {
            CausalLm model = base.load(precision, manager); // in 4 bits for a QLoRA recipe, as it was trained
            cache.put(recipeId, new Loaded(identity, manager, model));
            held.incrementAndGet();
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
        for (Iterator<Map.Entry<String, Loaded>> eldest = cache.entrySet().iterator(); cache.size() > capacity; ) {
            eldest.next().getValue().manager().close();
            eldest.remove();
            held.decrementAndGet();
        }
        return cache.get(recipeId).model();
    }

    /**
     * Runs {@code scoring} on the base with the checkpoint at {@code folder} applied, after checking its files
     * against {@code checksum}.
     *
     * @param format peft-lora, peft-dora, jola or hf-full (from the announcement; the folder's files when absent)
     */
    public synchronized <T> T withCheckpoint(
            String recipeId,
            RecipeModels.Base base,
            Path folder,
            String format,
            String checksum,
            Function<CausalLm, T> scoring)
            throws CheckpointProblem, IOException {
        verify(folder, checksum);
        String kind = format != null ? format : detect(folder);
        switch (kind) {
            case "peft-lora", "peft-dora" -> {
                CausalLm model = base(recipeId, base);
                try (NDManager scope = Compute.newManager()) {
                    LoraAdapters adapters = read(folder, () -> PeftAdapterFolder.load(folder, model, scope, false));
                    checkFits(adapters, model, folder);
                    model.setAdapters(adapters);
                    try {
                        return scoring.apply(model);
                    } finally {
                        model.setAdapters(null);
                    }
                }
            }
            case "jola" -> {
                CausalLm model = base(recipeId, base);
                if (!(model instanceof LlamaModel llama)) {
                    throw new CheckpointProblem(folder + ": a JoLA checkpoint edits Llama-family attention heads; the"
                            + " recipe's base model is not one");
                }
                try (NDManager scope = Compute.newManager()) {
                    JolaGates gates = read(folder, () -> JolaFile.load(folder, scope));
                    if (gates.layers() != llama.config().layers()
                            || gates.heads() != llama.config().heads()
                            || gates.headDim() != llama.config().headDim()) {
                        throw new CheckpointProblem(folder.resolve(JolaFile.WEIGHTS) + ": gates for " + gates.layers()
                                + " layers x " + gates.heads() + " heads x " + gates.headDim()
                                + " do not fit the base model's "
                                + llama.config().layers() + " x "
                                + llama.config().heads() + " x "
                                + llama.config().headDim());
                    }
                    llama.setHeadEdits(gates);
                    try {
                        return scoring.apply(model);
                    } finally {
                        llama.setHeadEdits(null);
                    }
                }
            }
            case "hf-full" -> {
                try (NDManager scope = Compute.newManager()) {
                    CausalLm model = read(folder, () -> ModelSource.at(folder).load(base.seed(), precision, scope));
                    held.incrementAndGet();
                    try {
                        if (model.vocabSize() != base.model().vocabSize()) {
                            throw new CheckpointProblem(
                                    folder + ": a vocabulary of " + model.vocabSize() + " where the recipe's base has "
                                            + base.model().vocabSize());
                        }
                        return scoring.apply(model);
                    } finally {
                        held.decrementAndGet(); // closed with its scope right after
                    }
                }
            }
            default ->
                throw new CheckpointProblem(folder + ": unknown checkpoint format '" + kind
                        + "'; expected peft-lora, peft-dora, jola or hf-full");
        }
    }

    /** The checkpoint's files against the checksum of its announcement. */
    static void verify(Path folder, String checksum) throws CheckpointProblem {
        if (!Files.isDirectory(folder)) {
            throw new CheckpointProblem("checkpoint folder " + folder + " does not exist (or is not a folder) on this"
                    + " instance's checkpoint volume");
        }
        if (checksum == null || !checksum.startsWith("sha256:")) {
            throw new CheckpointProblem(folder + ": the announcement carries no sha256 checksum (" + checksum + ")");
        }
        String actual;
        try {
            actual = CheckpointDigest.of(folder);
        } catch (IOException e) {
            throw new CheckpointProblem(folder + ": cannot read its files to check them: " + e.getMessage(), e);
        }
        if (!actual.equals(checksum)) {
            throw new CheckpointProblem(folder + ": checksum mismatch: announced " + checksum + ", the files give "
                    + actual + " (a torn copy or files changed after the checkpoint was written)");
        }
    }

    private static String detect(Path folder) {
        if (Files.isRegularFile(folder.resolve(PeftAdapterFolder.CONFIG))) {
            return "peft-lora";
        }
        if (Files.isRegularFile(folder.resolve(JolaFile.CONFIG))) {
            return "jola";
        }
        return Files.isRegularFile(folder.resolve("config.json")) ? "hf-full" : "unknown";
    }

    private static void checkFits(LoraAdapters adapters, CausalLm model, Path folder) throws CheckpointProblem {
        Map<String, Shape> linear = model.linearShapes();
        for (Map.Entry<String, LoraWeights> pair : adapters.weights().entrySet()) {
            Shape w = linear.get(pair.getKey());
            if (w == null) {
                throw new CheckpointProblem(folder.resolve(PeftAdapterFolder.WEIGHTS) + ": an adapter for "
                        + pair.getKey() + ", which the base model does not have");
            }
            Shape a = pair.getValue().a().getShape();
            Shape b = pair.getValue().b().getShape();
            if (a.get(1) != w.get(1) || b.get(0) != w.get(0)) {
                throw new CheckpointProblem(folder.resolve(PeftAdapterFolder.WEIGHTS) + ": " + pair.getKey()
                        + " has lora_A " + a + " and lora_B " + b + " for a weight of " + w);
            }
        }
    }

    private interface Reading<T> {
        T read() throws IOException;
    }

    /** A file that passed the checksum but cannot be read is corrupt as written: the checkpoint's problem. */
    private static <T> T read(Path folder, Reading<T> reading) throws CheckpointProblem {
        try {
            return reading.read();
        } catch (IOException | RuntimeException e) {
            throw new CheckpointProblem(folder + ": cannot be loaded: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        cache.values().forEach(loaded -> loaded.manager().close());
        held.addAndGet(-cache.size());
        cache.clear();
    }
}
