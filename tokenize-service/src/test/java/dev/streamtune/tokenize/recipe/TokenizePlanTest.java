package dev.streamtune.tokenize.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.lm.tokenizer.TiktokenTokenizer;
import dev.streamtune.lm.tokenizer.Tokenizers;
import dev.streamtune.streams.RecipeRejectedException;
import dev.streamtune.tokenize.batch.BatchAssembler;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.example.Truncation;
import dev.streamtune.tokenize.pack.PackedRow;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A recipe whose largest batch cannot travel as one Kafka record is refused before any of it is tokenized. */
class TokenizePlanTest {

    private static TokenizePlan plan(int rowsPerBatch, int maxSeqLength) {
        var recipe = RecipeParser.parse("""
                name: big-batches
                model_config:
                  tokenizer: r50k_base
                data_config:
                  format_type: chatml
                training_config:
                  finetuning_type: lora
                lora_config:
                  r: 8
                """, "big-batches.yaml").recipe();
        return new TokenizePlan(
                recipe,
                TiktokenTokenizer.gpt2WithChatMl(),
                maxSeqLength,
                Truncation.DROP,
                true,
                Map.of(),
                rowsPerBatch);
    }

    /** A batch of full rows, one document each, of ids as large as a vocabulary's, written as the stage writes it. */
    private static byte[] fullBatch(TokenizePlan plan) {
        Random random = new Random(42);
        List<PackedRow> rows = new ArrayList<>();
        for (int row = 0; row < plan.rowsPerBatch(); row++) {
            int[] ids = random.ints(plan.maxSeqLength(), 100_000, 256_000).toArray();
            int[] labels = ids.clone();
            labels[0] = -100;
            String key = plan.id() + ":conversation-" + row;
            rows.add(PackedRow.of(
                    new TokenizedExample(key, key, "chats", Split.TRAIN, ids, labels, ids.length - 1, 1, null),
                    plan.maxSeqLength()));
        }
        BatchAssembler assembler =
                new BatchAssembler(plan.id(), plan.rowsPerBatch(), plan.maxSeqLength(), true, 0, 0, key -> null);
        TrainBatch batch = assembler.add(rows).get(0);
        return new EventSerializer<TrainBatch>().serialize(Topics.BATCHES, batch);
    }

    @Test
    void theLargestBatchEstimateBoundsAFullBatchAsSent() {
        for (int[] shape : new int[][] {{16, 8192}, {2, 64}, {1, 1}, {3, 1000}}) {
            TokenizePlan plan = plan(shape[0], shape[1]);
            int actual = fullBatch(plan).length;
            assertThat(plan.largestBatchBytes())
                    .as("%d rows of %d tokens", shape[0], shape[1])
                    .isGreaterThanOrEqualTo(actual)
                    .isLessThan(actual + 4096L + 128L * shape[0]);
        }
    }

    @Test
    void aRecipeWhoseLargestBatchExceedsTheMaximumRecordSizeIsRejectedNamingWhy() {
        TokenizePlan plan = plan(16, 8192);

        assertThatThrownBy(() -> plan.requireBatchesFit(1024 * 1024))
                .isInstanceOfSatisfying(RecipeRejectedException.class, e -> {
                    assertThat(e.field()).isEqualTo("training_config.per_device_train_batch_size");
                    assertThat(e.getMessage())
                            .contains(
                                    "micro_batch_size (per_device_train_batch_size) 16",
                                    "max_seq_length 8,192",
                                    String.format("%,d bytes", plan.largestBatchBytes()),
                                    "maximum record size of 1,048,576 bytes (max.request.size / max.message.bytes)");
                });
        assertThatCode(() -> plan.requireBatchesFit(8 * 1024 * 1024)).doesNotThrowAnyException();
    }

    /** The stage tokenizes with the recipe's vocabulary: GPT-2's own 50,257 tokens unless the template writes ChatML. */
    @Test
    void theTokenizerIsTheRecipesVocabulary(@TempDir Path modelRoot) {
        String yaml = """
                model_config:
                  tokenizer: gpt2
                data_config:
                  format_type: %s
                training_config:
                  finetuning_type: full
                """;
        TokenizePlan alpaca = TokenizePlan.of(
                RecipeParser.parse(yaml.formatted("alpaca"), "a.yaml").recipe(), new Tokenizers(modelRoot));
        assertThat(alpaca.tokenizer().vocabSize()).isEqualTo(50257);
        assertThat(alpaca.padId()).isEqualTo(50256);
        TokenizePlan chatMl = TokenizePlan.of(
                RecipeParser.parse(yaml.formatted("chatml"), "c.yaml").recipe(), new Tokenizers(modelRoot));
        assertThat(chatMl.tokenizer().vocabSize()).isEqualTo(50259);
        assertThat(chatMl.tokenizer().encodeMarkup("<|im_start|>")).containsExactly(50258);
    }
}
