package dev.streamtune.lm.recipe;

import ai.djl.ndarray.NDManager;
import dev.streamtune.events.ConfinedPath;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.ModelConfig;
import dev.streamtune.events.recipe.QuantizationConfig;
import dev.streamtune.events.recipe.RecipeDefaults;
import dev.streamtune.events.recipe.TrainingConfig;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.quant.FourBitConfig;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import dev.streamtune.lm.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The base model and tokenizer a recipe names, settled against a model root: a Hugging Face folder or llama2.c file
 * under the root (never outside it), or a Llama built from scratch over the tokenizer's vocabulary with the recipe's
 * shape keys and drawn from its seed. The trainer and the evaluator both settle recipes here, so the evaluator's base
 * is exactly the model the trainer started from. Only configurations are read (config.json, a llama2.c header),
 * never weights.
 */
public final class RecipeModels {

    /** Architectures as recipes name them: a family, or a Hugging Face class name. */
    private static final Map<String, String> ARCHITECTURES = Map.of(
            "llama",
            "llama",
            "llamaforcausallm",
            "llama",
            "qwen2",
            "llama",
            "qwen2forcausallm",
            "llama",
            "olmo2",
            "llama",
            "olmo2forcausallm",
            "llama",
            "gpt2",
            "gpt2",
            "gpt2lmheadmodel",
            "gpt2");

    /**
     * A recipe's base: its model (weights not loaded), tokenizer, seed (which draws a model from scratch) and, for
     * QLoRA, how its linear layers are held in 4 bits (null for a dense base).
     */
    public record Base(ModelSource model, TextTokenizer tokenizer, long seed, FourBitConfig quantization) {

        /** One line for logs and rows: the model, and its 4-bit layers when it has them. */
        public String describe() {
            return RecipeModels.describe(model, quantization);
        }

        /** The base's weights on {@code manager}'s device, in 4 bits where the recipe asks for it. */
        public CausalLm load(Precision precision, NDManager manager) throws IOException {
            return model.load(seed, precision, quantization, manager);
        }
    }

    private final ConfinedPath modelRoot;
    private final Tokenizers tokenizers;

    public RecipeModels(Path modelRoot) {
        this.modelRoot = new ConfinedPath(modelRoot, "model root");
        this.tokenizers = new Tokenizers(this.modelRoot.root());
    }

    public Path modelRoot() {
        return modelRoot.root();
    }

    /** The recipe's seed: {@code training_config.seed}, else Hugging Face's 42. */
    public static long seed(Recipe recipe) {
        TrainingConfig training = recipe.trainingConfig();
        return training == null || training.seed() == null ? RecipeDefaults.SEED : training.seed();
    }

    /** The recipe's base; an {@link IllegalArgumentException} listing every problem (each with its key) otherwise. */
    public Base base(Recipe recipe) {
        List<String> problems = new ArrayList<>();
        ModelConfig config = modelConfig(recipe);
        TextTokenizer tokenizer = tokenizer(recipe, problems);
        ModelSource model = model(config, recipe.dataConfig(), tokenizer, problems);
        FourBitConfig quantization = quantization(config);
        if (!problems.isEmpty()) {
            // distinct: a model path outside the root is the tokenizer's problem too when the model names it
            throw new IllegalArgumentException(
                    String.join("; ", problems.stream().distinct().toList()));
        }
        return new Base(model, tokenizer, seed(recipe), quantization);
    }

    /** A base model in one line, with its 4-bit layers when it has them (a 4-bit base is another base). */
    public static String describe(ModelSource model, FourBitConfig quantization) {
        return model.describe()
                + (quantization == null ? "" : "; linear layers in 4 bits (" + quantization.describe() + ")");
    }

    /** The recipe's 4-bit settings (QLoRA), or null for a dense base. */
    public static FourBitConfig quantization(Recipe recipe) {
        return quantization(modelConfig(recipe));
    }

    /** The 4-bit settings of a model configuration, or null for a dense base (every architecture here can have one). */
    public static FourBitConfig quantization(ModelConfig config) {
        QuantizationConfig quantization = config.quantizationConfig();
        return !config.fourBit()
                ? null
                : new FourBitConfig(
                        FourBitType.of(quantization.quantTypeOrDefault()),
                        quantization.doubleQuantOrDefault(),
                        quantization.computeDtype());
    }

    public static ModelConfig modelConfig(Recipe recipe) {
        return recipe.modelConfig() != null
                ? recipe.modelConfig()
                : new ModelConfig(null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** The recipe's tokenizer (its vocabulary, with the tokens its template writes), or null with the problem added. */
    public TextTokenizer tokenizer(Recipe recipe, List<String> problems) {
        ModelConfig config = modelConfig(recipe);
        boolean named = config.tokenizer() != null || config.pretrainedModelNameOrPath() != null;
        if (!named) {
            problems.add("model_config.tokenizer: a model built from scratch needs a tokenizer (a tiktoken"
                    + " vocabulary such as r50k_base, or the path of a tokenizer.json or tok512.bin folder)");
            return null;
        }
        try {
            return tokenizers.of(recipe);
        } catch (RuntimeException e) {
            String key = config.tokenizer() != null
                    ? "model_config.tokenizer"
                    : "model_config.pretrained_model_name_or_path";
            problems.add(key + ": " + stripKey(e.getMessage()));
            return null;
        }
    }

    /** The recipe's model (its configuration), or null with the problems added. */
    public ModelSource model(ModelConfig config, DataConfig data, TextTokenizer tokenizer, List<String> problems) {
        String architecture = config.architecture() == null
                ? null
                : ARCHITECTURES.get(config.architecture().trim().toLowerCase(Locale.ROOT));
        if (config.architecture() != null && architecture == null) {
            problems.add("model_config.architecture: unknown architecture '" + config.architecture()
                    + "'; expected llama, qwen2, olmo2 or gpt2 (or their Hugging Face class names)");
            return null;
        }
        String path = config.pretrainedModelNameOrPath();
        if (path == null) {
            return fromScratch(config, data, architecture, tokenizer, problems);
        }
        Path resolved;
        try {
            resolved = modelRoot.resolve(path, "model_config.pretrained_model_name_or_path");
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            return null;
        }
        if (!Files.exists(resolved)) {
            problems.add("model_config.pretrained_model_name_or_path: '" + path + "' does not exist under the model"
                    + " root " + modelRoot.root()
                    + " (models are read from local folders; put the Hugging Face folder or"
                    + " llama2.c file there)");
            return null;
        }
        try {
            ModelSource source = ModelSource.at(resolved);
            String actual = source.kind().llamaFamily() ? "llama" : "gpt2";
            if (architecture != null && !architecture.equals(actual)) {
                problems.add("model_config.architecture: '" + config.architecture() + "' but the model at '" + path
                        + "' is " + actual);
            }
            return source;
        } catch (IOException | RuntimeException e) {
            problems.add("model_config.pretrained_model_name_or_path: cannot read the model's configuration: "
                    + e.getMessage());
            return null;
        }
    }

    /** A Llama over the tokenizer's vocabulary, shaped by the recipe (the Jojo data factory's flow). */
    private static ModelSource fromScratch(
            ModelConfig config, DataConfig data, String architecture, TextTokenizer tokenizer, List<String> problems) {
        if (architecture == null) {
            problems.add("model_config.pretrained_model_name_or_path: the recipe names no model; give one, or an"
                    + " architecture (llama) and its shape to train one from scratch");
            return null;
        }
        if (!architecture.equals("llama")) {
            problems.add("model_config.architecture: a model from scratch is built as a llama; gpt2 is only"
                    + " fine-tuned from a Hugging Face folder");
            return null;
        }
        Integer hidden = required(config.hiddenSize(), "model_config.hidden_size", problems);
        Integer layers = required(config.numHiddenLayers(), "model_config.num_hidden_layers", problems);
        Integer heads = required(config.numAttentionHeads(), "model_config.num_attention_heads", problems);
        if (hidden == null || layers == null || heads == null || tokenizer == null) {
            return null;
        }
        int kvHeads = config.numKeyValueHeads() == null ? heads : config.numKeyValueHeads();
        if (hidden % heads != 0) {
            problems.add("model_config.hidden_size: " + hidden + " is not a multiple of num_attention_heads " + heads);
            return null;
        }
        if (heads % kvHeads != 0) {
            problems.add("model_config.num_key_value_heads: " + heads + " query heads cannot share " + kvHeads
                    + " key/value heads evenly");
            return null;
        }
        int positions = config.maxPositionEmbeddings() != null
                ? config.maxPositionEmbeddings()
                : data != null && data.maxSeqLength() != null
                        ? data.maxSeqLength()
                        : RecipeDefaults.MAX_POSITION_EMBEDDINGS;
        int intermediate = config.intermediateSize() == null ? 4 * hidden : config.intermediateSize();
        return ModelSource.fromScratch(new LlamaConfig(
                hidden,
                intermediate,
                layers,
                heads,
                kvHeads,
                tokenizer.vocabSize(),
                positions,
                10000.0,
                1e-5,
                RopeStyle.HALF,
                true,
                null));
    }

    private static Integer required(Integer value, String key, List<String> problems) {
        if (value == null) {
            problems.add(key + ": required to build a model from scratch (with model_config.architecture)");
        }
        return value;
    }

    private static String stripKey(String message) {
        String text = message == null ? "cannot be loaded" : message;
        for (String key : List.of("model_config.tokenizer: ", "model_config.pretrained_model_name_or_path: ")) {
            if (text.startsWith(key)) {
                return text.substring(key.length());
            }
        }
        return text;
    }
}
