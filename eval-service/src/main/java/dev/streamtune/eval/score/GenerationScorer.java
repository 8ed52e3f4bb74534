package dev.streamtune.eval.score;

import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.generate.GenerationConfig;
import dev.streamtune.lm.generate.Generator;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import dev.streamtune.lm.tokenizer.TiktokenTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Continues the prompt of each sampled example (its tokens before the final assistant turn's response) with the
 * recipe's generation settings and compares what the model wrote with the reference response: exact match, ROUGE-L,
 * whether it stopped by itself (EOS or the turn end) rather than being cut off, lengths, and the EmoGPT guide's token
 * reduction. Lengths and the reduction count cl100k_base tokens, whatever the model's tokenizer, so that figures of
 * different models compare.
 */
public final class GenerationScorer {

    /** An example to generate for. */
    public record Prompt(String exampleKey, int[] inputIds, int promptTokens, String reference) {}

    /** One generation and its metrics. */
    public record Sample(
            String exampleKey,
            String prompt,
            String reference,
            String generation,
            String finish,
            int generatedTokens,
            Integer referenceTokens,
            Boolean exactMatch,
            Double rougeL,
            Double tokenReduction) {

        public boolean stoppedByItself() {
            return finish.equals(Generator.Finish.STOP_TOKEN.name());
        }
    }

    private static final TiktokenTokenizer CL100K = new TiktokenTokenizer("cl100k_base", Map.of());

    private final CausalLm model;
    private final TextTokenizer tokenizer;
    private final StopTokens stops;
    private final GenerationConfig config;
    private final int batchSize;

    public GenerationScorer(
            CausalLm model, TextTokenizer tokenizer, StopTokens stops, GenerationConfig config, int batchSize) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.stops = stops;
        this.config = config;
        this.batchSize = batchSize;
    }

    public List<Sample> generate(List<Prompt> prompts, NDManager manager) {
        List<Sample> samples = new ArrayList<>();
        for (int from = 0; from < prompts.size(); from += batchSize) {
            List<Prompt> batch = prompts.subList(from, Math.min(prompts.size(), from + batchSize));
            List<int[]> tokens = batch.stream()
                    .map(p -> Arrays.copyOf(p.inputIds(), p.promptTokens()))
                    .toList();
            List<Generator.Completion> completions;
            // sized by a decoding step (one new token per row), where generation spends its time
            Compute.useThreadsFor(model.largestProductFlops(batch.size()));
            try (NDManager scope = manager.newSubManager()) {
                completions = new Generator(model).generate(tokens, config, scope);
            }
            for (int i = 0; i < batch.size(); i++) {
                samples.add(sample(batch.get(i), tokens.get(i), completions.get(i)));
            }
        }
        return samples;
    }

    private Sample sample(Prompt prompt, int[] promptIds, Generator.Completion completion) {
        int[] generated = completion.tokens();
        int keep = generated.length;
        if (completion.finish() == Generator.Finish.STOP_TOKEN) {
            keep = withoutStop(generated);
        }
        String text =
                stops.cut(tokenizer.decode(Arrays.copyOf(generated, keep))).strip();
        int generatedTokens = CL100K.encode(text).length;
        String reference = prompt.reference();
        Integer referenceTokens = reference == null ? null : CL100K.encode(reference.strip()).length;
        return new Sample(
                prompt.exampleKey(),
                tokenizer.decode(promptIds),
                reference,
                text,
                completion.finish().name(),
                generatedTokens,
                referenceTokens,
                reference == null ? null : TextMetrics.exactMatch(text, reference),
                reference == null ? null : TextMetrics.rougeL(text, reference),
                referenceTokens == null || referenceTokens == 0
                        ? null
                        : TextMetrics.tokenReduction(referenceTokens, generatedTokens));
    }

    /** The generated tokens before the stop token or stop sequence that ended them. */
    private int withoutStop(int[] generated) {
        if (generated.length > 0 && stops.ids().contains(generated[generated.length - 1])) {
            return generated.length - 1;
        }
        for (int[] sequence : stops.sequences()) {
            int start = generated.length - sequence.length;
            if (start >= 0 && Arrays.equals(generated, start, generated.length, sequence, 0, sequence.length)) {
                return start;
            }
        }
        return generated.length;
    }

    /** The metrics an evaluation carries, averaged over its samples (keys as Hugging Face's evaluate names them). */
    public static Map<String, Double> metrics(List<Sample> samples) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (samples.isEmpty()) {
            return metrics;
        }
        metrics.put("samples", (double) samples.size());
        List<Sample> referenced =
                samples.stream().filter(s -> s.reference() != null).toList();
        if (!referenced.isEmpty()) {
            metrics.put(
                    "exact_match",
                    referenced.stream()
                            .mapToDouble(s -> s.exactMatch() ? 1 : 0)
                            .average()
                            .orElseThrow());
            metrics.put(
                    "rouge_l",
                    referenced.stream().mapToDouble(Sample::rougeL).average().orElseThrow());
            metrics.put(
                    "reference_tokens_mean",
                    referenced.stream()
                            .mapToInt(Sample::referenceTokens)
                            .average()
                            .orElseThrow());
        }
        samples.stream()
                .filter(s -> s.tokenReduction() != null)
                .mapToDouble(Sample::tokenReduction)
                .average()
                .ifPresent(reduction -> metrics.put("token_reduction", reduction));
        metrics.put(
                "generated_tokens_mean",
                samples.stream().mapToInt(Sample::generatedTokens).average().orElseThrow());
        metrics.put("generated_tokens_max", (double)
                samples.stream().mapToInt(Sample::generatedTokens).max().orElseThrow());
        metrics.put(
                "generated_chars_mean",
                samples.stream()
                        .mapToInt(s -> s.generation().length())
                        .average()
                        .orElseThrow());
        metrics.put(
                "stopped_by_itself",
                samples.stream()
                        .mapToDouble(s -> s.stoppedByItself() ? 1 : 0)
                        .average()
                        .orElseThrow());
        return metrics;
    }
}
