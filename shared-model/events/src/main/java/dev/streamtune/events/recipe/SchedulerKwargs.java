package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code training_config.lr_scheduler_kwargs}: the extra arguments of transformers' schedulers, by their names there
 * (a mapping, or the JSON text transformers' command line takes). Each applies to the schedules that have it:
 * num_cycles to cosine, cosine_with_restarts, cosine_with_min_lr and warmup_stable_decay's cosine decay; min_lr or
 * min_lr_rate to cosine_with_min_lr; lr_end and power to polynomial; num_decay_steps, num_stable_steps, warmup_type,
 * decay_type and min_lr_ratio to warmup_stable_decay; timescale to inverse_sqrt.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SchedulerKwargs(
        Double numCycles,
        Double minLr,
        Double minLrRate,
        Double lrEnd,
        Double power,
        Integer numDecaySteps,
        Integer numStableSteps,
        String warmupType,
        String decayType,
        Double minLrRatio,
        Integer timescale) {}
