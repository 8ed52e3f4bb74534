package dev.streamtune.trainer.service;

import dev.streamtune.trainer.run.SavedCheckpointRow;
import dev.streamtune.trainer.run.SavedCheckpointStatus;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotFoundException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which checkpoint of a run is its artefact: the newest one kept, or, with {@code load_best_model_at_end}, the best
 * (lowest validation loss, as {@link dev.streamtune.trainer.run.EarlyStopping} judges it; save_total_limit never
 * deletes it), as Hugging Face's Trainer loads the best model at the end. An export may also ask for any kept step,
 * or for the best whatever the recipe says.
 */
public final class FinalCheckpoint {

    /** The checkpoint an export takes, and why that one (for the answer). */
    public record Chosen(SavedCheckpointRow checkpoint, String why) {}

    /** What {@code ?step=} asks for: the best scored checkpoint. */
    public static final String BEST = "best";

    private FinalCheckpoint() {}

    /**
     * @param checkpoints the run's checkpoint rows, oldest first
     * @param bestStep    the best scored checkpoint's step, or null while none is scored
     * @param requested   {@code ?step=}: a step, {@link #BEST}, or null for the run's artefact
     */
    public static Chosen choose(
            String runId,
            List<SavedCheckpointRow> checkpoints,
            Long bestStep,
            boolean loadBestModelAtEnd,
            String requested) {
        if (requested == null || requested.isBlank()) {
            if (loadBestModelAtEnd) {
                if (bestStep == null) {
                    throw new RunConflictException("run " + runId + " keeps its best checkpoint as its artefact"
                            + " (load_best_model_at_end), and no checkpoint of it is scored yet; export a kept step"
                            + " with ?step=N, or ask again once eval-service has scored one");
                }
                return new Chosen(
                        kept(runId, checkpoints, bestStep, true), "the best checkpoint (load_best_model_at_end)");
            }
            return new Chosen(
                    newest(checkpoints)
                            .orElseThrow(() -> new NotFoundException("run " + runId + " has no checkpoint yet")),
                    "the newest checkpoint");
        }
        String asked = requested.trim().toLowerCase(Locale.ROOT);
        if (asked.equals(BEST)) {
            if (bestStep == null) {
                throw new RunConflictException("no checkpoint of run " + runId + " is scored yet, so none is the best;"
                        + " export a kept step with ?step=N, or ask again once eval-service has scored one");
            }
            return new Chosen(kept(runId, checkpoints, bestStep, true), "the best checkpoint");
        }
        long step;
        try {
            step = Long.parseLong(asked);
        } catch (NumberFormatException e) {
            throw new BadRequestException("step: expected a checkpoint's step or best, found '" + requested + "'");
        }
        return new Chosen(kept(runId, checkpoints, step, false), "the checkpoint asked for");
    }

    /** The step the run's artefact is at now (null when there is none yet), for the run's view. */
    public static Long finalStep(List<SavedCheckpointRow> checkpoints, Long bestStep, boolean loadBestModelAtEnd) {
        if (loadBestModelAtEnd) {
            return bestStep;
        }
        return newest(checkpoints).map(c -> c.step).orElse(null);
    }

    private static Optional<SavedCheckpointRow> newest(List<SavedCheckpointRow> checkpoints) {
        return checkpoints.stream()
                .filter(c -> c.status == SavedCheckpointStatus.AVAILABLE)
                .reduce((a, b) -> b.step > a.step ? b : a);
    }

    /** The kept checkpoint at {@code step}; a 404 (a 409 for the best, which should be kept) saying why not. */
    private static SavedCheckpointRow kept(
            String runId, List<SavedCheckpointRow> checkpoints, long step, boolean best) {
        Optional<SavedCheckpointRow> row =
                checkpoints.stream().filter(c -> c.step == step).findFirst();
        if (row.isPresent() && row.get().status == SavedCheckpointStatus.AVAILABLE) {
            return row.get();
        }
        String why = row.map(c -> "it was " + c.status.name().toLowerCase(Locale.ROOT))
                .orElse("none was written");
        List<Long> kept = checkpoints.stream()
                .filter(c -> c.status == SavedCheckpointStatus.AVAILABLE)
                .map(c -> c.step)
                .toList();
        if (best) {
            throw new RunConflictException("the best checkpoint of run " + runId + ", step " + step
                    + ", cannot be exported: " + why + "; the kept steps are " + kept);
        }
        throw new NotFoundException("run " + runId + " has no checkpoint at step " + step + " to export: " + why
                + "; the kept steps are " + kept);
    }
}
