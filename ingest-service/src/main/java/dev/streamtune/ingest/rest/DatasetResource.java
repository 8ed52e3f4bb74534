package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.ingest.pipeline.DatasetName;
import dev.streamtune.ingest.pipeline.Door;
import dev.streamtune.ingest.pipeline.IngestMetrics;
import dev.streamtune.ingest.pipeline.IngestOptions;
import dev.streamtune.ingest.pipeline.IngestReceipt;
import dev.streamtune.ingest.pipeline.IngestionServices;
import dev.streamtune.ingest.reader.ContainerFormat;
import dev.streamtune.ingest.reader.SpooledInput;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;

/** The REST doors of ingestion, and the dataset registry. */
@Path("/datasets")
@Produces(MediaType.APPLICATION_JSON)
public class DatasetResource {

    private final IngestionServices ingestions;
    private final IngestOptionsParser optionsParser;
    private final ImportRoot importRoot;
    private final DatasetRegistryView registry;
    private final IngestMetrics metrics;
    private final IngestConfig config;

    public DatasetResource(
            IngestionServices ingestions,
            IngestOptionsParser optionsParser,
            ImportRoot importRoot,
            DatasetRegistryView registry,
            IngestMetrics metrics,
            IngestConfig config) {
        this.ingestions = ingestions;
        this.optionsParser = optionsParser;
        this.importRoot = importRoot;
        this.registry = registry;
        this.metrics = metrics;
        this.config = config;
    }

    @POST
    @Path("/{name}/records")
    @Consumes(MediaType.WILDCARD)
    @Operation(
            summary = "Upload conversation records",
            description = "The body is JSON (a list), JSON Lines, CSV or Parquet, optionally gzip; it is streamed to"
                    + " disk, never held in memory. Query parameters: format (auto, sharegpt, openai, alpaca, dolly,"
                    + " oasst, prompt-response, text), container, map=target=source, role=name=role, split (90/10,"
                    + " 80/10/10, sizes:2000/200/200), seed, filter=metadata.x==y, lang, minTurns, maxTurns,"
                    + " maxChars, requireAssistantLast, sameRole (reject|merge), oasstPaths (best|all),"
                    + " nearDuplicates, nearDuplicateThreshold, source (label).")
    public IngestReceipt upload(
            @PathParam("name") String dataset,
            InputStream body,
            @Context UriInfo uri,
            @Parameter(hidden = true) @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
            @Parameter(hidden = true) @HeaderParam(HttpHeaders.CONTENT_ENCODING) String encoding,
            @Parameter(hidden = true) @HeaderParam(HttpHeaders.CONTENT_LENGTH) Long length)
            throws IOException {
        checkName(dataset);
        long maxUpload = config.maxUploadSize().asLongValue();
        if (length != null && length > maxUpload) {
            throw new SpooledInput.TooLargeException("the upload is " + length + " bytes, larger than the limit of "
                    + maxUpload + " bytes (ingest.max-upload-size)");
        }
        String source = uri.getQueryParameters().getFirst("source");
        source = source == null || source.isBlank() ? "upload" : source;
        IngestOptions options =
                optionsParser.parse(uri.getQueryParameters(), ContainerFormat.fromMediaType(contentType));
        boolean gzip = encoding != null && encoding.toLowerCase(Locale.ROOT).contains("gzip");
        try (SpooledInput input = SpooledInput.fromStream(
                body, source, gzip, maxUpload, config.maxDecompressedSize().asLongValue(), ingestions.spoolDir())) {
            if (input.receivedBytes() == 0) {
                throw new InvalidRequestException("the request body is empty");
            }
            metrics.recordBytes(Door.UPLOAD, input.receivedBytes());
            return ingestions.ingestFile(
                    input.file(),
                    SpooledInput.withoutGzipSuffix(source),
                    options.container(),
                    dataset,
                    source,
                    Door.UPLOAD,
                    options);
        }
    }

    /** The body of an import request. */
    public record ImportRequest(String path) {}

    /** One receipt per file, and their sums. */
    public record ImportReceipt(
            List<IngestReceipt> files, long records, long published, long rejected, long duplicates, long unused) {}

    @POST
    @Path("/{name}/imports")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(
            summary = "Import a file or directory from the server's import root",
            description = "Body {\"path\": \"relative/path\"}; takes the same query parameters as the upload. Paths"
                    + " resolving outside ingest.import-root (.., symbolic links) are refused with 400.")
    public ImportReceipt importFiles(@PathParam("name") String dataset, ImportRequest request, @Context UriInfo uri)
            throws IOException {
        checkName(dataset);
        String path = request != null && request.path() != null
                ? request.path()
                : uri.getQueryParameters().getFirst("path");
        List<ImportRoot.ImportFile> files = importRoot.resolve(path);
        IngestOptions options = optionsParser.parse(uri.getQueryParameters(), null);
        List<IngestReceipt> receipts = new ArrayList<>();
        for (ImportRoot.ImportFile file : files) {
            try (SpooledInput input = SpooledInput.fromFile(
                    file.path(), config.maxDecompressedSize().asLongValue(), ingestions.spoolDir())) {
                metrics.recordBytes(Door.IMPORT, input.receivedBytes());
                receipts.add(ingestions.ingestFile(
                        input.file(),
                        SpooledInput.withoutGzipSuffix(file.relativeName()),
                        options.container(),
                        dataset,
                        file.relativeName(),
                        Door.IMPORT,
                        options));
            }
        }
        return new ImportReceipt(
                receipts,
                receipts.stream().mapToLong(IngestReceipt::records).sum(),
                receipts.stream().mapToLong(IngestReceipt::published).sum(),
                receipts.stream().mapToLong(IngestReceipt::rejected).sum(),
                receipts.stream().mapToLong(IngestReceipt::duplicates).sum(),
                receipts.stream().mapToLong(IngestReceipt::unused).sum());
    }

    @GET
    @Operation(summary = "List datasets with their totals")
    public List<DatasetRegistryView.DatasetSummary> list() {
        return registry.list();
    }

    @GET
    @Path("/{name}")
    @Operation(summary = "One dataset: per source, counts per split and outcome, formats seen, recent ingestions")
    public DatasetRegistryView.DatasetDetail get(@PathParam("name") String dataset) {
        return registry.detail(dataset).orElseThrow(() -> new NotFoundException("no dataset named '" + dataset + "'"));
    }

    private static void checkName(String dataset) {
        String problem = DatasetName.problem(dataset);
        if (problem != null) {
            throw new InvalidRequestException(problem);
        }
    }
}
