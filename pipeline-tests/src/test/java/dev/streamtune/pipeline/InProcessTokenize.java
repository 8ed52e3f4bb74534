package dev.streamtune.pipeline;

import dev.streamtune.events.EvalExample;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Split;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.lm.tokenizer.Tokenizers;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.tokenize.example.ExampleTokenizer;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.example.Truncation;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import dev.streamtune.tokenize.worker.TrainingFlow;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What tokenize-service's {@code TokenizeWorker} does with each example of its recipe, without Kafka, for the pipeline benchmark's
 * chain: tokenized, truncated, evaluation examples built, training examples through the {@link TrainingFlow}
 * (mixing, packing, batching). Nothing is held on a commit watermark, since nothing is committed.
 */
public final class InProcessTokenize {

    private static final TrainingFlow.Holds NO_HOLDS = new TrainingFlow.Holds() {
        @Override
        public void hold(InputOffset input) {}

        @Override
        public void release(InputOffset input) {}
    };

    private final TokenizePlan plan;
    private final ExampleTokenizer tokenizer;
    private final TrainingFlow flow;
    private final Consumer<TrainBatch> batches;
    private final Set<String> seen = new HashSet<>();
    private long rejected;
    private long duplicates;
    private long evalExamples;

    /** @param batches told of each batch as the worker would publish it */
    public InProcessTokenize(Recipe recipe, Path modelRoot, Consumer<TrainBatch> batches) {
        this.plan = TokenizePlan.of(recipe, new Tokenizers(modelRoot));
        this.tokenizer = new ExampleTokenizer(plan.tokenizer());
        this.flow = new TrainingFlow(plan, 0, Set.of(), NO_HOLDS, mixed -> {});
        this.batches = batches;
    }

    /** One example, read from {@code source}. */
    public void accept(FormattedExample example, InputOffset source) {
        if (!seen.add(example.key())) {
            duplicates++;
            return;
        }
        TokenizedExample tokens = tokenizer.tokenize(example);
        Truncation.Outcome outcome = plan.truncation().apply(tokens, plan.maxSeqLength());
        if (outcome instanceof Truncation.Rejected) {
            rejected++;
            return;
        }
        List<TokenizedExample> pieces = ((Truncation.Kept) outcome).examples();
        if (example.split() != Split.TRAIN) {
            for (TokenizedExample piece : pieces) {
                new EvalExample(
                        EvalExample.SCHEMA_VERSION,
                        plan.id(),
                        piece.conversationId(),
                        piece.dataset(),
                        piece.split(),
                        TokenIds.of(piece.ids()),
                        TokenIds.of(piece.labels()),
                        piece.promptTokens(),
                        piece.referenceResponse(),
                        piece.key());
                evalExamples++;
            }
            return;
        }
        flow.add(pieces, source).forEach(batch -> batches.accept(batch.batch()));
    }

    /** What the flow still buffers, out as the quiet-stream flush sends it. */
    public void finish() {
        flow.flush().forEach(batch -> batches.accept(batch.batch()));
    }

    public long rejected() {
        return rejected;
    }

    public long duplicates() {
        return duplicates;
    }

    /** Evaluation examples made (windows of a split example count one each). */
    public long evalExamples() {
        return evalExamples;
    }
}
