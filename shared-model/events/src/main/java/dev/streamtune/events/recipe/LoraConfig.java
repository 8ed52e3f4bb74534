package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/** LoRA / DoRA settings with PEFT's {@code LoraConfig} names and meanings. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoraConfig(
        Integer r,
        Double loraAlpha,
        Double loraDropout,
        TargetModules targetModules,
        String bias,
        Boolean useRslora,
        Boolean useDora,
        List<String> modulesToSave) {}
