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

    /** How long a publish may wait for Kafka's acknowledgements. */
    @WithDefault("PT60S")
    Duration publishTimeout();
}
