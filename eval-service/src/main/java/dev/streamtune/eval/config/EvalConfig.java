package dev.streamtune.eval.config;

import io.smallrye.config.ConfigMapping;
import java.nio.file.Path;
import java.time.Duration;

/** eval-service's settings ({@code eval.*}, or EVAL_* in the environment). */
@ConfigMapping(prefix = "eval")
public interface EvalConfig {

    /** Base models and tokenizers are read under this folder only: the trainer's model root. */
    Path modelRoot();

    /** The volume the trainer writes checkpoints to (readiness checks it is readable). */
    Path checkpointRoot();

    /** An eval set is complete when it holds its recipe's split size, or when no example arrived this long. */
    Duration settleAfter();

    /** The bound of a split whose recipe gives no size. */
    int maxExamplesPerSplit();

    /** Examples per forward pass, unless the recipe's per_device_eval_batch_size says otherwise. */
    int batchSize();

    /** Base models kept loaded, least recently used evicted. */
    int cachedModels();

    Duration publishTimeout();

    Generation generation();

    /** Where the page at /watch reads what eval-service does not hold itself. */
    Watch watch();

    interface Generation {
        /** Examples of each split generated for, unless the recipe's generation_config.num_samples says otherwise. */
        int samples();

        int maxNewTokens();
    }

    interface Watch {
        /** trainer-service's REST API: runs and their train loss per step. */
        String trainerUrl();

        /** format-service's REST API: what each recipe's formatting counted. */
        String formatUrl();

        /** tokenize-service's REST API: what each recipe's tokenizing counted. */
        String tokenizeUrl();

        /** How long the page waits for one of them before showing it as unavailable. */
        Duration timeout();

        /** How often each recipe's lag (format, tokenize, training) is sampled for the page's lag chart. */
        Duration lagInterval();

        /** Samples kept per recipe, newest last (720 at 10 s: the last two hours). */
        int lagSamples();
    }
}
