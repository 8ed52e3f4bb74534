package dev.streamtune.trainer.training;

/** A batch that cannot be trained on this run's model (token ids outside the vocabulary, rows of unequal length...). */
public class MalformedBatchException extends RuntimeException {

    public MalformedBatchException(String message) {
        super(message);
    }

    /** A batch that cannot be read at all ({@code cause}: what the deserializer said). */
    public MalformedBatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
