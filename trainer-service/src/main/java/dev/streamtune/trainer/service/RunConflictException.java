package dev.streamtune.trainer.service;

/** What was asked of a run cannot be done in the state it is in (answered 409, saying why). */
public class RunConflictException extends RuntimeException {

    public RunConflictException(String message) {
        super(message);
    }
}
