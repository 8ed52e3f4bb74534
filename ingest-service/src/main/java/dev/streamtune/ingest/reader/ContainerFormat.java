package dev.streamtune.ingest.reader;

import java.util.Locale;

/** The file shapes ingestion reads. Gzip is a wrapper around any of them, detected separately. */
public enum ContainerFormat {
    JSON,
    JSONL,
    CSV,
    PARQUET;

    /** Parses a name given by a user; "auto", blank or null mean detect. */
    public static ContainerFormat parse(String value) {
        if (value == null || value.isBlank() || value.equalsIgnoreCase("auto")) {
            return null;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "json" -> JSON;
            case "jsonl", "ndjson", "json-lines", "jsonlines" -> JSONL;
            case "csv" -> CSV;
            case "parquet" -> PARQUET;
            default ->
                throw new IllegalArgumentException(
                        "unknown container '" + value + "'; expected auto, json, jsonl, csv or parquet");
        };
    }

    /** From a file name's extension, ignoring a trailing .gz; null when the extension says nothing. */
    public static ContainerFormat fromFileName(String fileName) {
        if (fileName == null) {
            return null;
        }
        String name = fileName.toLowerCase(Locale.ROOT);
        if (name.endsWith(".gz")) {
            name = name.substring(0, name.length() - 3);
        }
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
            return JSONL;
        }
        if (name.endsWith(".json")) {
            return JSON;
        }
        if (name.endsWith(".csv")) {
            return CSV;
        }
        if (name.endsWith(".parquet")) {
            return PARQUET;
        }
        return null;
    }

    /** From an HTTP media type; null when it says nothing specific (octet-stream, text/plain...). */
    public static ContainerFormat fromMediaType(String mediaType) {
        if (mediaType == null) {
            return null;
        }
        String type = mediaType.toLowerCase(Locale.ROOT);
        int parameters = type.indexOf(';');
        if (parameters >= 0) {
            type = type.substring(0, parameters);
        }
        return switch (type.trim()) {
            case "application/json" -> JSON;
            case "application/x-ndjson",
                    "application/jsonl",
                    "application/x-jsonlines",
                    "application/jsonlines",
                    "application/json-seq",
                    "text/jsonl" -> JSONL;
            case "text/csv", "application/csv" -> CSV;
            case "application/vnd.apache.parquet", "application/x-parquet", "application/parquet" -> PARQUET;
            default -> null;
        };
    }

    /**
     * From the first bytes of the (decompressed) content, when nothing else said: Parquet's magic, a list, or an
     * object (taken as JSON Lines).
     */
    public static ContainerFormat sniff(byte[] head, int length) {
        if (length >= 4 && head[0] == 'P' && head[1] == 'A' && head[2] == 'R' && head[3] == '1') {
            return PARQUET;
        }
        int i = 0;
        if (length >= 3 && (head[0] & 0xFF) == 0xEF && (head[1] & 0xFF) == 0xBB && (head[2] & 0xFF) == 0xBF) {
            i = 3;
        }
        while (i < length && Character.isWhitespace(head[i])) {
            i++;
        }
        if (i < length && head[i] == '[') {
            return JSON;
        }
        if (i < length && head[i] == '{') {
            return JSONL;
        }
        return CSV;
    }
}
