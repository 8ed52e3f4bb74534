package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A dataset a recipe trains on and its mixing weight (weights are normalised to proportions). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DatasetWeight(String name, Double weight) {}
