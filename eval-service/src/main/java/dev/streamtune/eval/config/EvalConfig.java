package dev.streamtune.eval.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** eval-service's settings ({@code eval.*}, or EVAL_* in the environment). */
@ConfigMapping(prefix = "eval")
public interface EvalConfig {

    /** Base models and tokenizers are read under this folder only: the trainer's model root. */
    @WithDefault(".")
    Path modelRoot();

    /** The volume the trainer writes checkpoints to; readiness is DOWN while it cannot be read. */
    @WithDefault("checkpoints")
    Path checkpointRoot();

    /** An eval set is complete when it holds its recipe's split size, or when no example arrived this long. */
    @WithDefault("PT30S")
    Duration settleAfter();

    /** The bound of a split whose recipe gives no size (valid_ratio, or ingest's own split). */
    @WithDefault("1000")
    int maxExamplesPerSplit();

    /** Examples per forward pass, unless the recipe's per_device_eval_batch_size says otherwise. */
    @WithDefault("8")
    int batchSize();

    /** Base models kept loaded (one per recipe), least recently used evicted. */
    @WithDefault("2")
    int cachedModels();

    /** How long a publish may wait for Kafka's acknowledgements. */
    @WithDefault("PT60S")
    Duration publishTimeout();

    Generation generation();

    /** Where the page at /watch reads what eval-service does not hold itself. */
    Watch watch();

    interface Generation {
        /** Examples of each split generated for, unless the recipe's generation_config.num_samples says otherwise. */
        @WithDefault("8")
        int samples();

        /** Tokens generated per example, unless the recipe's generation_config.max_new_tokens says otherwise. */
        @WithDefault("64")
        int maxNewTokens();
    }

    interface Watch {
        /** trainer-service's REST API: runs and their train loss per step. */
        @WithDefault("http://localhost:8084")
        String trainerUrl();

        /** trainer-service's read token (its trainer.auth.read-token or trainer.auth.token), when its reads need one. */
        Optional<String> trainerToken();

        /** format-service's REST API: what each recipe's formatting counted. */
        @WithDefault("http://localhost:8082")
        String formatUrl();

        /** tokenize-service's REST API: what each recipe's tokenizing counted. */
        @WithDefault("http://localhost:8083")
        String tokenizeUrl();

        /** How long the page waits for one of them before showing it as unavailable. */
        @WithDefault("PT3S")
        Duration timeout();

        /** How often each recipe's lag (format, tokenize, training) is sampled for the page's lag chart. */
        @WithDefault("PT10S")
        Duration lagInterval();

        /** Samples kept per recipe, newest last (720 at 10 s: the last two hours). */
        @WithDefault("720")
        int lagSamples();
    }
}
