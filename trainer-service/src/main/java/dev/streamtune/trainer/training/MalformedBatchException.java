package dev.streamtune.trainer.training;

/** A batch that cannot be trained on this run's model (token ids outside the vocabulary, rows of unequal length...). */
public class MalformedBatchException extends RuntimeException {

    public MalformedBatchException(String message) {
        super(message);
    }
}
