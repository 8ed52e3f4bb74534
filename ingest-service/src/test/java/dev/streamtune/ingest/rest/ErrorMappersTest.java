package dev.streamtune.ingest.rest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.ingest.pipeline.IngestReceipt;
import dev.streamtune.ingest.pipeline.IngestionFailedException;
import dev.streamtune.ingest.pipeline.SplitConflictException;
import dev.streamtune.ingest.reader.SpooledInput;
import dev.streamtune.ingest.split.SplitPolicy;
import dev.streamtune.streams.Problem;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ErrorMappersTest {

    private final ErrorMappers mappers = new ErrorMappers();

    @Test
    void anInvalidRequestIsA400Problem() {
        assertProblem(
                mappers.invalid(new InvalidRequestException("the request body is empty")),
                400,
                "urn:streamtune:problem:invalid-request",
                "Invalid request",
                "the request body is empty");
    }

    @Test
    void anInputOverTheLimitIsA413Problem() {
        assertProblem(
                mappers.tooLarge(new SpooledInput.TooLargeException("the upload exceeds 2G")),
                413,
                "urn:streamtune:problem:content-too-large",
                "Content too large",
                "the upload exceeds 2G");
    }

    @Test
    void anotherSplitThanTheDatasetsIsA409Problem() {
        SplitConflictException conflict =
                new SplitConflictException("chat", SplitPolicy.parse("0.8/0.1/0.1", 3), SplitPolicy.parse("90/10", 3));
        assertProblem(
                mappers.splitConflict(conflict),
                409,
                "urn:streamtune:problem:conflict",
                "Conflict",
                "dataset 'chat' is split 0.8/0.1/0.1 seed 3");
    }

    @Test
    void anUnknownDatasetIsA404Problem() {
        assertProblem(
                mappers.notFound(new NotFoundException("no dataset 'chat'")),
                404,
                "urn:streamtune:problem:not-found",
                "Not found",
                "no dataset 'chat'");
    }

    @Test
    void aStoppedIngestionIsA503ProblemWithWhatItHadDone() {
        IngestReceipt partial = new IngestReceipt(
                UUID.randomUUID(),
                "chat",
                "upload.jsonl",
                "upload",
                "90/10 seed 42",
                10,
                4,
                1,
                0,
                0,
                Map.of(),
                Map.of("jsonl", 10L),
                Map.of(),
                List.of());
        Response response = mappers.failed(
                new IngestionFailedException("Kafka did not acknowledge", partial, new RuntimeException("timeout")));

        Problem problem = assertProblem(
                response,
                503,
                "urn:streamtune:problem:unavailable",
                "Service unavailable",
                "ingestion stopped: Kafka did not acknowledge; records reported as published are safe, and sending"
                        + " the same input again only adds the rest");
        assertThat(problem.extensions()).containsEntry("partialReceipt", partial);
    }

    private static Problem assertProblem(Response response, int status, String type, String title, String detail) {
        assertThat(response.getStatus()).isEqualTo(status);
        assertThat(response.getMediaType()).hasToString("application/problem+json");
        assertThat(response.getEntity()).isInstanceOf(Problem.class);
        Problem problem = (Problem) response.getEntity();
        assertThat(problem.status()).isEqualTo(status);
        assertThat(problem.type()).isEqualTo(type);
        assertThat(problem.title()).isEqualTo(title);
        assertThat(problem.detail()).contains(detail);
        return problem;
    }
}
