package dev.streamtune.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.trainer.run.SavedCheckpointRow;
import dev.streamtune.trainer.run.SavedCheckpointStatus;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotFoundException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint a run's export takes: the newest, or with load_best_model_at_end the best scored one; any kept step
 * or the best when asked for; a clear refusal for a step not kept or a best not scored yet.
 */
class FinalCheckpointTest {

    private static SavedCheckpointRow row(long step, SavedCheckpointStatus status) {
        SavedCheckpointRow row = new SavedCheckpointRow();
        row.step = step;
        row.status = status;
        row.location = "file:/checkpoints/r/run/checkpoint-" + step + "/";
        return row;
    }

    /** Steps 1 (deleted by save_total_limit), 2, 4 and 6 kept, 5 corrupt, in the order the run store lists them. */
    private static final List<SavedCheckpointRow> ROWS = List.of(
            row(1, SavedCheckpointStatus.DELETED),
            row(2, SavedCheckpointStatus.AVAILABLE),
            row(4, SavedCheckpointStatus.AVAILABLE),
            row(5, SavedCheckpointStatus.CORRUPT),
            row(6, SavedCheckpointStatus.AVAILABLE));

    @Test
    void withoutLoadBestModelAtEndTheRunsArtefactIsItsNewestCheckpoint() {
        FinalCheckpoint.Chosen chosen = FinalCheckpoint.choose("run", ROWS, 2L, false, null);
        assertThat(chosen.checkpoint().step).isEqualTo(6);
        assertThat(chosen.why()).isEqualTo("the newest checkpoint");
    }

    @Test
    void withLoadBestModelAtEndTheRunsArtefactIsItsBestCheckpoint() {
        FinalCheckpoint.Chosen chosen = FinalCheckpoint.choose("run", ROWS, 2L, true, null);
        assertThat(chosen.checkpoint().step).isEqualTo(2);
        assertThat(chosen.why()).contains("best", "load_best_model_at_end");
        assertThat(FinalCheckpoint.finalStep(ROWS, 2L, true)).isEqualTo(2L);
        assertThat(FinalCheckpoint.finalStep(ROWS, 2L, false)).isEqualTo(6L);
        assertThat(FinalCheckpoint.finalStep(ROWS, null, true)).isNull();
    }

    @Test
    void anyKeptStepOrTheBestCanBeAskedFor() {
        assertThat(FinalCheckpoint.choose("run", ROWS, 2L, false, "4").checkpoint().step)
                .isEqualTo(4);
        assertThat(FinalCheckpoint.choose("run", ROWS, 2L, false, "best").checkpoint().step)
                .isEqualTo(2);
        assertThat(FinalCheckpoint.choose("run", ROWS, 4L, true, " 6 ").checkpoint().step)
                .isEqualTo(6);
    }

    @Test
    void aStepNotKeptIsNotFoundSayingWhatIsKept() {
        assertThatThrownBy(() -> FinalCheckpoint.choose("run", ROWS, 2L, false, "1"))
                .isInstanceOf(NotFoundException.class)
                .hasMessage(
                        "run run has no checkpoint at step 1 to export: it was deleted; the kept steps are [2, 4, 6]");
        assertThatThrownBy(() -> FinalCheckpoint.choose("run", ROWS, 2L, false, "5"))
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("at step 5 to export: it was corrupt");
        assertThatThrownBy(() -> FinalCheckpoint.choose("run", ROWS, 2L, false, "3"))
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("at step 3 to export: none was written");
        assertThatThrownBy(() -> FinalCheckpoint.choose("run", List.of(), null, false, null))
                .isInstanceOf(NotFoundException.class)
                .hasMessage("run run has no checkpoint yet");
    }

    @Test
    void theBestBeforeAnyScoreIsAConflictSayingWhy() {
        assertThatThrownBy(() -> FinalCheckpoint.choose("run", ROWS, null, false, "best"))
                .isInstanceOf(RunConflictException.class)
                .hasMessageContaining("no checkpoint of run run is scored yet");
        assertThatThrownBy(() -> FinalCheckpoint.choose("run", ROWS, null, true, null))
                .isInstanceOf(RunConflictException.class)
                .hasMessageContaining("load_best_model_at_end")
                .hasMessageContaining("?step=");
    }

    @Test
    void aStepThatIsNeitherANumberNorBestIsABadRequest() {
        assertThatThrownBy(() -> FinalCheckpoint.choose("run", ROWS, 2L, false, "latest"))
                .isInstanceOf(BadRequestException.class)
                .hasMessage("step: expected a checkpoint's step or best, found 'latest'");
    }
}
