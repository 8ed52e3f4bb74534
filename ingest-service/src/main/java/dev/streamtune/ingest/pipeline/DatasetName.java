package dev.streamtune.ingest.pipeline;

import java.util.regex.Pattern;

/**
 * What a dataset may be called, whichever door names it (the REST path, the {@code dataset} header of
 * {@code conversations-raw}, the stream's default): a name that fits the registry's column and reads safely in
 * URLs, metric tags and logs.
 */
public final class DatasetName {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");
    private static final int SHOWN = 80;

    private DatasetName() {}

    /** Why {@code name} cannot name a dataset, or null when it can. */
    public static String problem(String name) {
        if (NAME.matcher(name).matches()) {
            return null;
        }
        return "'" + shown(name) + "' is not a dataset name: expected 1-200 letters, digits, '.', '_' or '-',"
                + " starting with a letter or digit";
    }

    /** The name as a reason can quote it: control characters escaped, a long one cut with its length. */
    private static String shown(String name) {
        StringBuilder shown = new StringBuilder();
        name.codePoints().limit(SHOWN).forEach(c -> {
            if (Character.isISOControl(c)) {
                shown.append(String.format("\\u%04x", c));
            } else {
                shown.appendCodePoint(c);
            }
        });
        int length = name.codePointCount(0, name.length());
        return length > SHOWN ? shown + "... (" + length + " characters)" : shown.toString();
    }
}
