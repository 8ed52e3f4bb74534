package dev.streamtune.ingest.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Settings of the ingest service, under {@code ingest.*}; every one can be overridden by environment variable. */
@ConfigMapping(prefix = "ingest")
public interface IngestConfig {

    /** The one directory server-side imports may read from; imports are refused when unset. */
    Optional<Path> importRoot();

    /** Largest upload accepted, as sent (answered with 413 past it). */
    @WithDefault("2G")
    MemorySize maxUploadSize();

    /** Largest input accepted after gunzip (against decompression bombs). */
    @WithDefault("16G")
    MemorySize maxDecompressedSize();

    /** Largest single record; larger ones are dead-lettered without being parsed. */
    @WithDefault("1M")
    MemorySize maxRecordSize();

    /**
     * Largest OASST message tree read from a flat export (one message per row), counted as the bytes of its rows:
     * a tree's rows are held until the tree ends, one tree at a time, and a larger tree is rejected whole.
     */
    @WithDefault("64M")
    MemorySize oasstMaxTreeSize();

    /** How much of a rejected record's original bytes a dead letter carries. */
    @WithDefault("16K")
    MemorySize deadLetterPayloadLimit();

    /**
     * Records processed, published and committed together: each chunk costs a few round trips to PostgreSQL and an
     * acknowledged publish, shared by all its records.
     */
    @WithDefault("2000")
    int chunkSize();

    /** How many rejection reasons a receipt lists (all are dead-lettered). */
    @WithDefault("20")
    int receiptRejections();

    /** Where uploads are spooled; the JVM's temporary directory when unset. */
    Optional<Path> spoolDir();

    /** How long to wait for Kafka to acknowledge a chunk before failing the ingestion. */
    @WithDefault("PT60S")
    Duration publishTimeout();

    Auth auth();

    Defaults defaults();

    NearDuplicates nearDuplicates();

    Stream stream();

    interface Auth {
        /** When set, write endpoints require {@code Authorization: Bearer <token>}. */
        Optional<String> token();

        /**
         * When set, the read endpoints need {@code Authorization: Bearer <token>} with this token or the write
         * token; health and metrics stay open.
         */
        Optional<String> readToken();
    }

    /** Defaults of the per-request options. */
    interface Defaults {
        /** Split of a dataset's first ingestion when the request gives none; later ones follow the dataset's. */
        @WithDefault("90/10")
        String split();

        /** Split seed of a dataset's first ingestion when the request gives none. */
        @WithDefault("42")
        long seed();

        /** Whether a conversation that does not end on an assistant turn is rejected. */
        @WithDefault("true")
        boolean requireAssistantLast();

        /** Consecutive turns of one speaker: {@code reject} the conversation or {@code merge} them. */
        @WithDefault("reject")
        String sameRole();
    }

    interface NearDuplicates {
        /** MinHash bands; rows per band = 128 / bands. Fixed per deployment: stored band keys depend on it. */
        @WithDefault("16")
        int bands();

        /** Default Jaccard similarity at or above which a conversation is a near duplicate. */
        @WithDefault("0.8")
        double threshold();
    }

    /** The {@code conversations-raw} door. */
    interface Stream {
        /** Dataset of raw records that carry no {@code dataset} header. */
        @WithDefault("stream")
        String dataset();

        /**
         * Split of a dataset the raw topic creates (its first ingestion); a dataset that has a split keeps it. Size
         * caps fill as batches arrive, each batch in its seeded shuffle order.
         */
        @WithDefault("90/10")
        String split();

        /** Split seed of a dataset the raw topic creates. */
        @WithDefault("42")
        long seed();

        /** Whether raw records are checked for near duplicates (at {@code near-duplicates.threshold}). */
        @WithDefault("false")
        boolean nearDuplicates();
    }
}
