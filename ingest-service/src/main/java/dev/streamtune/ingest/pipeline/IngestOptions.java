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
 * @param nearDuplicateThreshold Jaccard similarity from which a conversation counts as a near duplicate of one
 *                              already published; null turns near-duplicate detection off (exact duplicates are
 *                              always detected)
 */
public record IngestOptions(FormatOptions format, ContainerFormat container, NormalizationPolicy normalization,
                            RecordFilter filter, SplitPolicy split, Double nearDuplicateThreshold) {
}
