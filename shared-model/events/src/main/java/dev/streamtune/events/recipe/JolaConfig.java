package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * JoLA settings with the authors' names. {@code penalty} picks the expected-L0 form: "coded" (the authors'
 * code, the default) or "blog".
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JolaConfig(Double gateLambda, String gateScheduler, String penalty) {}
