package dev.streamtune.trainer.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Settings of the trainer, under {@code trainer.*}; every one can be overridden by environment variable. */
@ConfigMapping(prefix = "trainer")
public interface TrainerConfig {

    /**
     * Where {@code pretrained_model_name_or_path} and tokenizer paths resolve (Hugging Face folders, llama2.c files);
     * nothing outside it is read.
     */
    @WithDefault(".")
    Path modelRoot();

    /** Where checkpoints are written: a volume shared with eval-service. */
    @WithDefault("checkpoints")
    Path checkpointRoot();

    /** A run whose stream has been quiet this long checkpoints what it trained since its last checkpoint. */
    @WithDefault("PT10S")
    Duration checkpointWhenIdle();

    /**
     * In a run with epochs (num_train_epochs, no max_steps), a stream quiet this long has delivered the run's data:
     * the first pass closes and later passes replay it.
     */
    @WithDefault("PT30S")
    Duration streamEndAfter();

    /**
     * How long {@code save_total_limit} keeps a checkpoint that eval-service has not evaluated yet (the best one is
     * kept whatever this says): a checkpoint is rotated away once its evaluation arrived, or after this wait. 0 when
     * no eval-service runs: checkpoints are then rotated as soon as they are beyond the limit.
     */
    @WithDefault("PT1H")
    Duration evaluationWait();

    /** How long a publish may wait for Kafka's acknowledgements. */
    @WithDefault("PT60S")
    Duration publishTimeout();

    /**
     * The most a recipe's model may need to train (its weights; for full fine-tuning their gradients and AdamW's
     * moments too), checked before anything is allocated, e.g. {@code 12G}; a recipe over it is refused with the
     * figures. Unset: 80% of the memory of the device runs train on (the GPU's, else the machine's).
     */
    Optional<MemorySize> memoryBudget();

    Auth auth();

    interface Auth {
        /** When set, POST and DELETE endpoints need {@code Authorization: Bearer <token>}. */
        Optional<String> token();

        /**
         * When set, the read endpoints need {@code Authorization: Bearer <token>} with this token or the write
         * token; health and metrics stay open.
         */
        Optional<String> readToken();
    }
}
