package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renames input fields onto the names a format expects, for data whose columns are named otherwise: the mapping
 * {@code instruction=question} makes the Alpaca reader take the instruction from {@code question}. A mapped name
 * replaces the format's own aliases for that field.
 */
public final class FieldMapping {

    public static final FieldMapping NONE = new FieldMapping(Map.of());

    private final Map<String, String> sourceByTarget;

    private FieldMapping(Map<String, String> sourceByTarget) {
        this.sourceByTarget = Map.copyOf(sourceByTarget);
    }

    /** Parses entries of the form {@code target=source} (or {@code target:source}). */
    public static FieldMapping parse(List<String> entries) {
        Map<String, String> mapping = new LinkedHashMap<>();
        for (String entry : entries) {
            int separator = indexOfSeparator(entry);
            if (separator <= 0 || separator == entry.length() - 1) {
                throw new IllegalArgumentException(
                        "field mapping '" + entry + "' must be target=source, e.g. instruction=question");
            }
            mapping.put(
                    entry.substring(0, separator).trim(),
                    entry.substring(separator + 1).trim());
        }
        return new FieldMapping(mapping);
    }

    private static int indexOfSeparator(String entry) {
        int equals = entry.indexOf('=');
        return equals >= 0 ? equals : entry.indexOf(':');
    }

    /** The value of a field that has no aliases, under its mapped name if it is mapped. */
    public Lookup find(JsonNode record, String name) {
        return find(record, new FieldName(name, List.of(name)));
    }

    /**
     * The value of the first name of {@code field}'s priority list present (not null) in {@code record}. When the
     * canonical name is mapped, only the mapped source field is consulted.
     */
    public Lookup find(JsonNode record, FieldName field) {
        String mapped = sourceByTarget.get(field.canonical());
        if (mapped != null) {
            JsonNode value = record.get(mapped);
            return value == null || value.isNull() ? Lookup.absent(mapped) : new Lookup(mapped, value);
        }
        for (String name : field.priority()) {
            JsonNode value = record.get(name);
            if (value != null && !value.isNull()) {
                return new Lookup(name, value);
            }
        }
        return Lookup.absent(field.canonical());
    }

    public boolean has(JsonNode record, String name) {
        return find(record, name).present();
    }

    public boolean has(JsonNode record, FieldName field) {
        return find(record, field).present();
    }

    /** The source field name the canonical {@code name} reads from. */
    public String sourceOf(String name) {
        return sourceByTarget.getOrDefault(name, name);
    }

    public Map<String, String> asMap() {
        return sourceByTarget;
    }

    /**
     * A field a format reads: the canonical name, which mappings refer to, and the names it may appear under, in
     * the order they are tried (the first present wins).
     */
    public record FieldName(String canonical, List<String> priority) {
        public FieldName {
            priority = List.copyOf(priority);
        }
    }

    /** A field looked up in a record: the name it was found under, and its value (null when absent). */
    public record Lookup(String name, JsonNode value) {
        static Lookup absent(String name) {
            return new Lookup(name, null);
        }

        public boolean present() {
            return value != null;
        }
    }
}
