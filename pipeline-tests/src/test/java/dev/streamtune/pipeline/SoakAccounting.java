package dev.streamtune.pipeline;

import dev.streamtune.events.Topics;
import dev.streamtune.localstack.run.LocalServices;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Each stage's books at the end of the soak, from the services' own counters ({@code /q/metrics}) against what the
 * topics hold (a fresh broker: a topic's end offsets are everything ever produced to it): every record a stage read
 * is out, rejected, a duplicate, or one the stage does not use, and what it says it put out is on its output topic.
 * The trainer has no such identity (it trains what arrives); its line says how many of the recipe's batches it has
 * trained.
 */
final class SoakAccounting {

    /** One stage's books: what came in, its outcomes, which of them is its output, and what its output topic holds. */
    record Stage(String name, long in, Map<String, Long> outcomes, String out, Long onTopic, String topic) {

        long accounted() {
            return outcomes.values().stream().mapToLong(Long::longValue).sum();
        }

        boolean balanced() {
            return in == accounted() && (onTopic == null || onTopic.equals(outcomes.getOrDefault(out, 0L)));
        }

        String describe() {
            String sum = outcomes.entrySet().stream()
                    .map(e -> String.format(Locale.ROOT, "%s %,d", e.getKey(), e.getValue()))
                    .collect(Collectors.joining(" + "));
            String topicCheck = onTopic == null
                    ? ""
                    : String.format(
                            Locale.ROOT, "; %s %,d, on %s %,d", out, outcomes.getOrDefault(out, 0L), topic, onTopic);
            return String.format(
                    Locale.ROOT,
                    "%-9s in %,d = %s (= %,d)%s -> %s",
                    name,
                    in,
                    sum.isEmpty() ? "nothing counted" : sum,
                    accounted(),
                    topicCheck,
                    balanced() ? "BALANCED" : "NOT BALANCED");
        }
    }

    /** tokenize's counts beside its identity (windows dropped, mixing's copies and drops), not part of it. */
    private static final Set<String> TOKENIZE_BESIDES = Set.of("window_dropped", "mix_copy", "mix_dropped");

    private SoakAccounting() {}

    static List<Stage> read(SoakSampler sampler, StageLag lag, String recipeId, long produced) throws Exception {
        Map<String, Long> topics = lag.snapshot(
                        List.of(Topics.CONVERSATIONS, Topics.EXAMPLES, Topics.EVAL_EXAMPLES, Topics.BATCHES))
                .records();
        List<Stage> stages = new ArrayList<>();
        stages.add(new Stage(
                "ingest",
                produced,
                sampler.metrics(LocalServices.INGEST)
                        .sumBy("ingest_records_total", "outcome", labels -> labels.containsKey("dataset")),
                "published",
                topics.get(Topics.CONVERSATIONS),
                Topics.CONVERSATIONS));
        stages.add(new Stage(
                "format",
                topics.get(Topics.CONVERSATIONS),
                sampler.metrics(LocalServices.FORMAT)
                        .sumBy("format_records_total", "outcome", labels -> recipeId.equals(labels.get("recipe"))),
                "formatted",
                topics.get(Topics.EXAMPLES),
                Topics.EXAMPLES));
        Map<String, Long> tokenize = sampler.metrics(LocalServices.TOKENIZE)
                .sumBy(
                        "tokenize_records_total",
                        "outcome",
                        labels -> recipeId.equals(labels.get("recipe"))
                                && !TOKENIZE_BESIDES.contains(labels.get("outcome")));
        stages.add(new Stage(
                "tokenize",
                topics.get(Topics.EXAMPLES),
                tokenize,
                "eval",
                topics.get(Topics.EVAL_EXAMPLES),
                Topics.EVAL_EXAMPLES));
        stages.add(new Stage(
                "eval",
                topics.get(Topics.EVAL_EXAMPLES),
                sampler.metrics(LocalServices.EVAL)
                        .sumBy("eval_examples_total", "outcome", labels -> recipeId.equals(labels.get("recipe"))),
                "stored",
                null,
                null));
        return stages;
    }

    static boolean balanced(List<Stage> stages) {
        return stages.stream().allMatch(Stage::balanced);
    }

    static void print(List<Stage> stages, SoakSampler.Training training) {
        System.out.println();
        System.out.println("accounting (in = out + rejected + duplicates + what the stage does not use):");
        stages.forEach(stage -> System.out.println("  " + stage.describe()));
        System.out.printf(
                Locale.ROOT,
                "  %-9s %,d optimiser steps (a batch each); %,d of the recipe's %,d batches on %s left to train%n",
                "trainer",
                training.steps(),
                training.behind(),
                training.batches(),
                Topics.BATCHES);
        System.out.println(balanced(stages) ? "BALANCED" : "NOT BALANCED");
    }
}
