package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.SourceRef;
import java.util.Locale;

/** How records came in. */
public enum Door {
    UPLOAD(SourceRef.Kind.UPLOAD),
    IMPORT(SourceRef.Kind.FILE),
    TOPIC(SourceRef.Kind.TOPIC);

    private final SourceRef.Kind sourceKind;

    Door(SourceRef.Kind sourceKind) {
        this.sourceKind = sourceKind;
    }

    public SourceRef.Kind sourceKind() {
        return sourceKind;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
