package dev.streamtune.lm.io;

import java.io.IOException;

/** A safetensors file that does not follow the format; the message names the file and what is wrong. */
public class SafetensorsFormatException extends IOException {

    public SafetensorsFormatException(String message) {
        super(message);
    }
}
