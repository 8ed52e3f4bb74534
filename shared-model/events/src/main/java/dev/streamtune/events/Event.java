package dev.streamtune.events;

/**
 * An event that travels on a topic. Every event carries the version of the schema it was written with,
 * so a consumer can refuse a record it does not understand instead of misreading it.
 */
public interface Event {

    int schemaVersion();
}
