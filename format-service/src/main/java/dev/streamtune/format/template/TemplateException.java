package dev.streamtune.format.template;

/** A conversation this template cannot render, with a reason a person can act on. */
public class TemplateException extends RuntimeException {

    public TemplateException(String message) {
        super(message);
    }

    public TemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
