package dev.streamtune.trainer.rest;

import jakarta.ws.rs.BadRequestException;

/** The bounds of a paging parameter: one outside them is a 400 naming it, not a silently clamped page. */
final class Paging {

    private Paging() {}

    static void check(String parameter, long value, long min, long max) {
        if (value < min || value > max) {
            throw new BadRequestException("query parameter '" + parameter + "' must be "
                    + (max == Long.MAX_VALUE || max == Integer.MAX_VALUE
                            ? "at least " + min
                            : "between " + min + " and " + max)
                    + ", was " + value);
        }
    }
}
