package dev.streamtune.trainer.rest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.streamtune.events.Topics;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.Problem;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.testing.SharedData;
import dev.streamtune.trainer.StoriesRecipes;
import dev.streamtune.trainer.plan.TrainingPlans;
import dev.streamtune.trainer.worker.TrainWorker;
import dev.streamtune.trainer.worker.TrainerStage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;

/**
 * {@code POST /recipes} given hostile bodies, through the resource and the service's exception mappers as RESTEasy
 * Reactive dispatches them (the mapper for the nearest type of what the resource threw; none: a 500): random text
 * and bytes, a valid recipe (YAML and JSON) cut or mutated, deep nesting, huge documents. Every answer is a 202 for a
 * body that is still a trainable recipe, else a 4xx with a problem body, within 5 seconds; never a 5xx. A valid
 * recipe is still accepted afterwards.
 *
 * <p>{@code -Dstreamtune.fuzz.examples=N} draws more inputs than the suite's 300 per property;
 * {@code -Dstreamtune.fuzz.seed=S} replays a run.
 */
class RecipeSubmissionFuzzTest {

    private static final int EXAMPLES = Integer.getInteger("streamtune.fuzz.examples", 300);
    private static final String PUNCTUATION = ":-[]{}'\"#&*!|>%@`,?\t\n \\";

    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final ErrorMappers mappers = new ErrorMappers();
    private StageRuntime<TrainWorker> runtime;
    private RecipeResource resource;
    private List<String> valid;

    @BeforeEach
    void trainer() throws Exception {
        TrainingPlans plans = new TrainingPlans(SharedData.models());
        TrainerStage stage = new TrainerStage(new SimpleMeterRegistry(), Map.of(), null, null, null) {
            @Override
            public TrainingPlans plans() {
                return plans;
            }

            @Override
            public StageRuntime<TrainWorker> runtime() {
                return runtime;
            }
        };
        // Only publishing is exercised: the recipes topic is never read here, so its reader waits, asleep.
        runtime = StageRuntime.start(
                new StageContext(
                        TrainerStage.SERVICE,
                        "train",
                        KafkaSettings.bootstrap("localhost:1"),
                        new AcknowledgedPublisher(producer, Duration.ofSeconds(5)),
                        config -> {
                            throw new IllegalStateException("no recipes topic in this test");
                        },
                        Duration.ofHours(1)),
                stage);
        resource = new RecipeResource(stage);
        String yaml = StoriesRecipes.lora("fuzz", 6, 3);
        String json = new ObjectMapper().writeValueAsString(new ObjectMapper(new YAMLFactory()).readTree(yaml));
        valid = List.of(yaml, json);
    }

    @AfterEach
    void close() {
        runtime.close();
    }

    @Test
    void theValidRecipesAreAccepted() {
        for (String body : valid) {
            assertThat(post(body).getStatus()).as(body).isEqualTo(202);
        }
        assertThat(producer.history()).extracting(r -> r.topic()).containsExactly(Topics.RECIPES, Topics.RECIPES);
    }

    @Test
    void aDamagedRecipeIsAcceptedWhenStillTrainableElseRefusedWithAProblem() {
        theory().forAll(integers().between(0, valid.size() - 1), integers().between(0, 4), longs().all())
                .checkAssert((example, mutation, seed) ->
                        assertAcceptedOrRefused(mutate(valid.get(example), mutation, new Random(seed)), true));
        assertThat(post(valid.get(0)).getStatus()).isEqualTo(202);
    }

    @Test
    void randomBytesAndTextAreRefusedWithAProblem() {
        theory().forAll(integers().between(0, 4096), longs().all()).checkAssert((length, seed) -> {
            Random random = new Random(seed);
            byte[] bytes = new byte[length];
            random.nextBytes(bytes);
            // what the server hands the resource: the bytes read as UTF-8, as RESTEasy reads a String body
            assertAcceptedOrRefused(new String(bytes, StandardCharsets.UTF_8), false);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < length; i++) {
                text.append(PUNCTUATION.charAt(random.nextInt(PUNCTUATION.length())));
                if (random.nextInt(4) == 0) {
                    text.append((char) ('a' + random.nextInt(26)));
                }
            }
            assertAcceptedOrRefused(text.toString(), false);
        });
        assertThat(post(valid.get(0)).getStatus()).isEqualTo(202);
    }

    @Test
    void deepHugeAndEmptyBodiesAreRefusedWithAProblem() {
        List<String> bodies = new ArrayList<>(List.of(
                "",
                " ",
                "null",
                "[]",
                "42",
                "{}",
                "{".repeat(100_000),
                "[".repeat(100_000) + "]".repeat(100_000),
                "a: ".repeat(10_000) + "b",
                "model_config:\n  pretrained_model_name_or_path: '" + "x".repeat(8 * 1024 * 1024) + "'\n",
                "model_config: {" + "k: {".repeat(5_000) + "}".repeat(5_001),
                "- " + "&a [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n- ".repeat(20) + "x",
                valid.get(0).repeat(100),
                valid.get(1) + valid.get(1),
                valid.get(0).replace("stories260K", "../../etc"),
                valid.get(0) + "\n\u0000\uFFFF\uD800"));
        StringBuilder nested = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            nested.append("  ".repeat(i)).append("k:\n");
        }
        bodies.add(nested.toString());
        for (String body : bodies) {
            assertAcceptedOrRefused(body, false);
        }
        assertThat(post(valid.get(0)).getStatus()).isEqualTo(202);
    }

    /** The property: a 4xx with a problem body (or a 202, when {@code mayBeValid}), within bounded time. */
    private void assertAcceptedOrRefused(String body, boolean mayBeValid) {
        Response response = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> post(body));
        int status = response.getStatus();
        if (mayBeValid && status == 202) {
            return;
        }
        assertThat(status).as("status for:\n%s", shown(body)).isBetween(400, 499);
        assertThat(response.getMediaType()).hasToString("application/problem+json");
        assertThat(response.getEntity()).isInstanceOf(Problem.class);
        Problem problem = (Problem) response.getEntity();
        assertThat(problem.status()).isEqualTo(status);
        assertThat(problem.detail()).as("detail for:\n%s", shown(body)).isNotBlank();
    }

    /**
     * The resource's answer, or what the mapper RESTEasy Reactive would pick for its failure: the
     * {@link ServerExceptionMapper} of {@link ErrorMappers} for the nearest type; none is a 500, as the server's own.
     */
    private Response post(String body) {
        try {
            return resource.submit(body);
        } catch (RuntimeException e) {
            Method nearest = null;
            for (Method method : ErrorMappers.class.getMethods()) {
                if (method.isAnnotationPresent(ServerExceptionMapper.class)
                        && method.getParameterTypes()[0].isInstance(e)
                        && (nearest == null
                                || nearest.getParameterTypes()[0].isAssignableFrom(method.getParameterTypes()[0]))) {
                    nearest = method;
                }
            }
            if (nearest == null) {
                throw new AssertionError("no mapper for " + e + ": a 500 for:\n" + shown(body), e);
            }
            try {
                return (Response) nearest.invoke(mappers, e);
            } catch (IllegalAccessException | InvocationTargetException failure) {
                throw new IllegalStateException(failure);
            }
        }
    }

    private static String mutate(String valid, int mutation, Random random) {
        return switch (mutation) {
            case 0 -> {
                byte[] bytes = valid.getBytes(StandardCharsets.UTF_8);
                for (int i = 1 + random.nextInt(8); i > 0; i--) {
                    bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                }
                yield new String(bytes, StandardCharsets.UTF_8);
            }
            case 1 -> valid.substring(0, random.nextInt(valid.length()));
            case 2 -> {
                char[] chars = valid.toCharArray();
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    chars[random.nextInt(chars.length)] = PUNCTUATION.charAt(random.nextInt(PUNCTUATION.length()));
                }
                yield new String(chars);
            }
            case 3 -> {
                List<String> lines = new ArrayList<>(valid.lines().toList());
                int at = random.nextInt(lines.size());
                char[] deep = new char[random.nextInt(2_000)];
                Arrays.fill(deep, '[');
                lines.add(at, lines.get(at) + new String(deep));
                yield String.join("\n", lines);
            }
            default -> {
                List<String> lines = new ArrayList<>(valid.lines().toList());
                lines.remove(random.nextInt(lines.size()));
                yield String.join("\n", lines);
            }
        };
    }

    private static String shown(String body) {
        return body.length() > 500 ? body.substring(0, 500) + "... (" + body.length() + " characters)" : body;
    }

    private static QuickTheory theory() {
        QuickTheory theory = qt().withExamples(EXAMPLES).withShrinkCycles(20).withUnlimitedTestingTime();
        Long seed = Long.getLong("streamtune.fuzz.seed");
        return seed == null ? theory : theory.withFixedSeed(seed);
    }
}
