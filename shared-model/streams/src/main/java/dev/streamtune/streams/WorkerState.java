package dev.streamtune.streams;

/**
 * A worker's health as operators see it.
 *
 * @param worker            the worker's {@linkplain StreamWorker#name name}: for a recipe's worker, its recipe id
 * @param failure           the infrastructure failure it is retrying after (null while it works)
 * @param retries           how often it started over after such failures
 * @param recordFailures    records it could not handle, each now a dead letter (the worker went on)
 * @param lastRecordFailure the reason of the last of them
 * @param lag               records behind the end of its partitions after its last poll (-1 before the first)
 */
public record WorkerState(
        String worker,
        StreamWorker.State state,
        String failure,
        long retries,
        long recordFailures,
        String lastRecordFailure,
        long lag) {

    /** Retrying after a failure of the infrastructure: the instance should not be sent work. */
    public boolean retrying() {
        return state == StreamWorker.State.RETRYING;
    }

    /** The state in a line, as a readiness check's data shows it. */
    public String summary() {
        if (retrying()) {
            return "infrastructure failure, retrying from the committed offsets (" + retries + " retries): " + failure;
        }
        return state.name().toLowerCase() + ", lag " + lag
                + (recordFailures == 0
                        ? ""
                        : ", " + recordFailures + " records dead-lettered, last: " + lastRecordFailure);
    }
}
