package dev.streamtune.format.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;

/** Settings of format-service, under {@code format.*}; every one can be overridden by environment variable. */
@ConfigMapping(prefix = "format")
public interface FormatConfig {

    /**
     * Where {@code model_config.pretrained_model_name_or_path} is resolved when relative (tokenizer_config.json:
     * BOS/EOS and the model's own chat template).
     */
    @WithDefault(".")
    Path modelRoot();

    /** What a Jinja template's {@code strftime_now()} returns: fixed, so a conversation always renders the same. */
    @WithDefault("26 Jul 2024")
    String templateDate();

    /** How long a publish may wait for Kafka's acknowledgements. */
    @WithDefault("PT60S")
    Duration publishTimeout();

    Jinja jinja();

    /** Bounds on a Jinja chat template's work; a conversation past either is a dead letter naming the key. */
    interface Jinja {
        /**
         * Wall-clock limit of one render of a Jinja chat template (a real one takes milliseconds). A conversation
         * whose render runs past it is a dead letter naming this key; the worker goes on with the next.
         */
        @WithDefault("PT2S")
        Duration renderTimeout();

        /**
         * Renders of a Jinja chat template allowed per conversation: marking trainable characters renders a
         * conversation of m messages 2m + 1 times, so 513 admits conversations of up to 256 messages. A longer one
         * is a dead letter naming this key, refused before any render.
         */
        @WithDefault("513")
        int maxRenders();
    }
}
