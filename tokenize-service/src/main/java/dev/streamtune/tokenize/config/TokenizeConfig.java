package dev.streamtune.tokenize.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;

/** Settings of tokenize-service, under {@code tokenize.*}; every one can be overridden by environment variable. */
@ConfigMapping(prefix = "tokenize")
public interface TokenizeConfig {

    /** Where {@code model_config.tokenizer} / {@code pretrained_model_name_or_path} are resolved when relative. */
    @WithDefault(".")
    Path modelRoot();

    /**
     * A stream that goes quiet this long has what is buffered (mixing window, open packed rows, a partial batch)
     * sent. Short, since the examples read last before a pause wait this long for their batch; only a pause this
     * long sends a partial batch, a stream that keeps flowing never does.
     */
    @WithDefault("PT1S")
    Duration flushAfter();

    /**
     * How far back a repeat of an example key is recognised as a duplicate: the last this many keys of the recipe the
     * worker read, and after a restart the keys of this many records before the committed position of each
     * {@code examples} partition (read back at start). Repeats come from upstream redelivery after a crash, within a
     * few polls of the original; one older than this is taken as a new example and trains again. Bounds the worker's
     * memory (about 100 bytes a key) and what a restart reads.
     */
    @WithDefault("20000")
    int dedupHorizon();

    /** How long a publish may wait for Kafka's acknowledgements. */
    @WithDefault("PT60S")
    Duration publishTimeout();
}
