package dev.streamtune.ingest.pipeline;

import dev.streamtune.ingest.filter.RecordFilter;
import dev.streamtune.ingest.format.FormatOptions;
import dev.streamtune.ingest.normalize.NormalizationPolicy;
import dev.streamtune.ingest.reader.ContainerFormat;
import dev.streamtune.ingest.split.SplitPolicy;

/**
 * Everything that shapes one ingestion.
 *
 * @param container             the file shape, or null to go by name, media type, then content
 * @param split                 the split for a new dataset; an existing dataset keeps its own
 * @param splitAsked            whether the user asked for {@code split} (a request parameter) rather than it being
 *                              the door's default: asking a dataset for a split other than its own is refused
 * @param nearDuplicateThreshold Jaccard similarity from which a conversation counts as a near duplicate of one
 *                              already published; null turns near-duplicate detection off (exact duplicates are
 *                              always detected)
 */
public record IngestOptions(
        FormatOptions format,
        ContainerFormat container,
        NormalizationPolicy normalization,
        RecordFilter filter,
        SplitPolicy split,
        boolean splitAsked,
        Double nearDuplicateThreshold) {

    /** These options with the dataset's own split, which it follows. */
    public IngestOptions withSplit(SplitPolicy datasetSplit) {
        return new IngestOptions(
                format, container, normalization, filter, datasetSplit, splitAsked, nearDuplicateThreshold);
    }
}
