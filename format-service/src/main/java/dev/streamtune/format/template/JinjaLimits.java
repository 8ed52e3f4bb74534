package dev.streamtune.format.template;

import java.time.Duration;

/**
 * How much work one conversation may cost a Jinja chat template. Marking trainable characters renders a
 * conversation of m messages 2m + 1 times (each prefix, each message's content replaced by a sentinel, and no
 * message at all), so a conversation costs at most {@code maxRenders} renders of at most {@code renderTimeout}
 * each.
 *
 * @param renderTimeout wall-clock limit of one render ({@code format.jinja.render-timeout}): an empty loop body
 *                      renders no node, so a node budget alone cannot bound the time nested loops take
 * @param maxRenders    renders allowed per conversation ({@code format.jinja.max-renders}): a longer conversation
 *                      is refused before any render
 */
public record JinjaLimits(Duration renderTimeout, int maxRenders) {

    /** Two seconds per render (a real chat template takes milliseconds); 513 renders, conversations of 256 messages. */
    public static final JinjaLimits DEFAULT = new JinjaLimits(Duration.ofSeconds(2), 513);

    /** @throws IllegalArgumentException naming the setting that cannot bound anything */
    public JinjaLimits {
        if (renderTimeout == null || renderTimeout.isNegative() || renderTimeout.isZero()) {
            throw new IllegalArgumentException("format.jinja.render-timeout: expected a positive duration such as PT2S,"
                    + " got " + renderTimeout);
        }
        if (maxRenders < 3) {
            throw new IllegalArgumentException("format.jinja.max-renders: expected at least 3 (a conversation of one"
                    + " message takes 3 renders), got " + maxRenders);
        }
    }

    /** The time limit as a person reads it: "2 s", "500 ms". */
    String describeTimeout() {
        return renderTimeout.toMillis() % 1000 == 0
                ? renderTimeout.toSeconds() + " s"
                : renderTimeout.toMillis() + " ms";
    }
}
