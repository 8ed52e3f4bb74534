package dev.streamtune.tokenize.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Segment;
import dev.streamtune.events.Split;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.lm.tokenizer.HuggingFaceTextTokenizer;
import dev.streamtune.lm.tokenizer.Llama2cTokenizer;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import dev.streamtune.lm.tokenizer.TiktokenTokenizer;
import dev.streamtune.tokenize.batch.BatchAssembler;
import dev.streamtune.tokenize.example.ExampleTokenizer;
import dev.streamtune.tokenize.example.Truncation;
import dev.streamtune.tokenize.pack.SequencePacker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

/**
 * Tokenizer throughput on the real ShareGPT and Alpaca text of {@code ../shared}: each tokenizer, one thread and
 * all cores; and the cost of the token-array wire encoding (base64 of little-endian int32 against a JSON array).
 * A command, not a test: {@code bench/tokenizer-throughput.sh}.
 */
public final class TokenizerBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        Path shared = Path.of(args.length > 0 ? args[0] : "../shared");
        List<String> texts = texts(shared);
        long characters = texts.stream().mapToLong(String::length).sum();
        System.out.printf(
                Locale.ROOT,
                "corpus: %d texts, %,d characters (ShareGPT messages + Alpaca fields); %d CPU(s)%n",
                texts.size(),
                characters,
                Runtime.getRuntime().availableProcessors());
        try (HuggingFaceTextTokenizer gpt2Json = HuggingFaceTextTokenizer.read(shared.resolve("models/tiny-gpt2"));
                HuggingFaceTextTokenizer olmo =
                        HuggingFaceTextTokenizer.read(shared.resolve("tokenizers/olmo2-dolma2-tokenizer.json"))) {
            Map<String, TextTokenizer> tokenizers = new LinkedHashMap<>();
            tokenizers.put("jtokkit r50k_base (GPT-2)", new TiktokenTokenizer("r50k_base", Map.of()));
            tokenizers.put("tokenizer.json GPT-2 (Rust, DJL)", gpt2Json);
            tokenizers.put("jtokkit cl100k_base", new TiktokenTokenizer("cl100k_base", Map.of()));
            tokenizers.put("tokenizer.json OLMo-2 dolma2 (Rust, DJL)", olmo);
            tokenizers.put(
                    "llama2.c tok512", Llama2cTokenizer.read(shared.resolve("models/stories260K/tok512.bin"), 512));
            for (Map.Entry<String, TextTokenizer> tokenizer : tokenizers.entrySet()) {
                measure(tokenizer.getKey(), tokenizer.getValue(), texts);
            }
        }
        wireEncoding();
        pipeline(shared);
    }

    /**
     * The service's work per example without Kafka: tokenize ChatML-rendered ShareGPT conversations, truncate,
     * pack into 1,024-token rows, assemble batches of 8 rows and serialise them as the topic carries them.
     */
    private static void pipeline(Path shared) throws Exception {
        List<FormattedExample> examples = new ArrayList<>();
        for (JsonNode conversation : JSON.readTree(
                shared.resolve("data/sharegpt/fastchat_dummy_conversation.json").toFile())) {
            List<Segment> segments = new ArrayList<>();
            for (JsonNode message : conversation.path("conversations")) {
                boolean assistant = message.path("from").asText().equals("gpt");
                segments.add(new Segment("<|im_start|>" + (assistant ? "assistant" : "user") + "\n", false, true));
                segments.add(new Segment(message.path("value").asText(), assistant));
                segments.add(new Segment("<|im_end|>", assistant, true));
                segments.add(new Segment("\n", false, true));
            }
            examples.add(new FormattedExample(
                    1,
                    "bench",
                    conversation.path("id").asText(),
                    "sharegpt",
                    Split.TRAIN,
                    "chatml",
                    segments,
                    null,
                    null));
        }
        ExampleTokenizer tokenizer = new ExampleTokenizer(TiktokenTokenizer.gpt2WithChatMl());
        EventSerializer<TrainBatch> serializer = new EventSerializer<>();
        long start = System.nanoTime();
        long batches = 0;
        long processed = 0;
        long bytes = 0;
        while (System.nanoTime() - start < 5_000_000_000L) {
            SequencePacker packer = new SequencePacker(1024, 256, 0.97, 64);
            BatchAssembler assembler = new BatchAssembler("bench", 8, 1024, true, 50256, 0, key -> null);
            List<TrainBatch> out = new ArrayList<>();
            for (FormattedExample example : examples) {
                var outcome = Truncation.TRUNCATE.apply(tokenizer.tokenize(example), 1024);
                if (outcome instanceof Truncation.Kept kept) {
                    for (var piece : kept.examples()) {
                        out.addAll(assembler.add(packer.add(piece)));
                    }
                }
                processed++;
            }
            out.addAll(assembler.add(packer.flush()));
            out.addAll(assembler.flush());
            for (TrainBatch batch : out) {
                bytes += serializer.serialize("batches", batch).length;
            }
            batches += out.size();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(
                Locale.ROOT,
                "pipeline without Kafka (tokenize, truncate, pack 1024, batch 8 rows, serialise):"
                        + " %,.0f examples/s, %,.1f batches/s, %,.0f KiB per batch%n",
                processed / seconds,
                batches / seconds,
                bytes / 1024.0 / Math.max(1, batches));
    }

    private static void measure(String name, TextTokenizer tokenizer, List<String> texts) {
        long tokens = 0;
        for (String text : texts) {
            tokens += tokenizer.encode(text).length;
        }
        tokensPerSecond(tokenizer, texts, tokens, 1); // warm-up: two seconds for the JIT
        double single = tokensPerSecond(tokenizer, texts, tokens, 1);
        int cores = Runtime.getRuntime().availableProcessors();
        double all = tokensPerSecond(tokenizer, texts, tokens, cores);
        System.out.printf(
                Locale.ROOT,
                "%-42s %,9d tokens  1 thread %,12.0f tokens/s  %d threads %,12.0f tokens/s%n",
                name,
                tokens,
                single,
                cores,
                all);
    }

    /** Encodes the corpus repeatedly for at least two seconds on {@code threads} threads. */
    private static double tokensPerSecond(
            TextTokenizer tokenizer, List<String> texts, long tokensPerPass, int threads) {
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            long start = System.nanoTime();
            long passes = 0;
            while (System.nanoTime() - start < 2_000_000_000L) {
                pool.submit(() -> texts.parallelStream().forEach(tokenizer::encode))
                        .join();
                passes++;
            }
            return passes * tokensPerPass / ((System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdown();
        }
    }

    /** A batch's worth of ids (8 x 1024, GPT-2 range) as base64 little-endian int32 and as a JSON array. */
    private static void wireEncoding() throws Exception {
        Random random = new Random(1);
        int[] ids = new int[8 * 1024];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(50257);
        }
        TokenIds tokenIds = TokenIds.of(ids);
        String base64 = JSON.writeValueAsString(tokenIds);
        String array = JSON.writeValueAsString(ids);
        int rounds = 2_000;
        long start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            JSON.readValue(JSON.writeValueAsString(TokenIds.of(ids)), TokenIds.class);
        }
        double base64Micros = (System.nanoTime() - start) / 1e3 / rounds;
        start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            JSON.readValue(JSON.writeValueAsString(ids), int[].class);
        }
        double arrayMicros = (System.nanoTime() - start) / 1e3 / rounds;
        System.out.printf(
                Locale.ROOT,
                "wire, 8,192 ids: base64 LE int32 %,d bytes, %.0f us write+read;"
                        + " JSON array %,d bytes, %.0f us write+read%n",
                base64.length(),
                base64Micros,
                array.length(),
                arrayMicros);
    }

    private static List<String> texts(Path shared) throws Exception {
        List<String> texts = new ArrayList<>();
        for (JsonNode conversation : JSON.readTree(
                shared.resolve("data/sharegpt/fastchat_dummy_conversation.json").toFile())) {
            for (JsonNode message : conversation.path("conversations")) {
                texts.add(message.path("value").asText());
            }
        }
        for (JsonNode record : JSON.readTree(
                shared.resolve("data/alpaca/alpaca_data_sample.json").toFile())) {
            for (String field : List.of("instruction", "input", "output")) {
                if (!record.path(field).asText().isEmpty()) {
                    texts.add(record.path(field).asText());
                }
            }
        }
        return texts;
    }
}
