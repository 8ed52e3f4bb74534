package dev.streamtune.streams;

/**
 * Kafka did not acknowledge what was published (unreachable, timed out, refused): a failure of the infrastructure,
 * not of a record. A worker starts over from its committed offsets rather than dead-lettering anything.
 */
public final class PublishException extends RuntimeException {

    public PublishException(String message, Throwable cause) {
        super(message, cause);
    }
}
