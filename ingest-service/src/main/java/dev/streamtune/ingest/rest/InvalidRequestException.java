package dev.streamtune.ingest.rest;

/** A request the service refuses with 400 and this message. */
public class InvalidRequestException extends RuntimeException {

    public InvalidRequestException(String message) {
        super(message);
    }
}
