package dev.streamtune.trainer.rest;

import java.util.List;

/** The body of every error response: what went wrong, and for a refused recipe every problem with its key. */
public record ApiError(int status, String error, List<String> problems) {

    public static ApiError of(int status, String error) {
        return new ApiError(status, error, null);
    }
}
