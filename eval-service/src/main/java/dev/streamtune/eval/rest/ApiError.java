package dev.streamtune.eval.rest;

/** The body of every error response: what went wrong. */
public record ApiError(int status, String error) {
}
