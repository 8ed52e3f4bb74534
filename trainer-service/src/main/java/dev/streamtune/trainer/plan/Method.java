package dev.streamtune.trainer.plan;

import java.util.Locale;

/** How a run fine-tunes, and the format of the artefacts its checkpoints carry. */
public enum Method {
    LORA("peft-lora"),
    DORA("peft-dora"),
    JOLA("jola"),
    FULL("hf-full");

    private final String format;

    Method(String format) {
        this.format = format;
    }

    /** The checkpoint format named on {@code CheckpointEvent}s. */
    public String format() {
        return format;
    }

    /** From training_config.finetuning_type, as the recipe parser settled it. */
    public static Method of(String finetuningType) {
        return valueOf(finetuningType.trim().toUpperCase(Locale.ROOT));
    }
}
