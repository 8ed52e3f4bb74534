package dev.streamtune.format.testing;

import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Segment;
import java.util.ArrayList;
import java.util.List;

/** What an example trains, read as text: the tests' view of its segments. */
public final class Spans {

    private Spans() {}

    /**
     * The runs of adjacent segments that are (or are not) trained, each joined into one span: a turn's content and
     * its markup turn end read as one.
     */
    public static List<String> of(FormattedExample example, boolean trainable) {
        List<String> spans = new ArrayList<>();
        StringBuilder span = new StringBuilder();
        for (Segment segment : example.segments()) {
            if (segment.trainable() == trainable) {
                span.append(segment.text());
            } else if (!span.isEmpty()) {
                spans.add(span.toString());
                span.setLength(0);
            }
        }
        if (!span.isEmpty()) {
            spans.add(span.toString());
        }
        return spans;
    }
}
