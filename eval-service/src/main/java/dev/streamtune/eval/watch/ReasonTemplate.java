package dev.streamtune.eval.watch;

import java.util.regex.Pattern;

/**
 * A dead letter's reason with what names the single record taken out, so that a thousand records refused for one
 * reason group into one row and the tally grows with the kinds of failure, not with the stream: where it was (line
 * and column, {@code topic-partition@offset}), which record (an example's or conversation's key, a record key) and
 * the figures that differ from record to record (a length, a count) become placeholders.
 */
final class ReasonTemplate {

    private static final Pattern LINE_PREFIX = Pattern.compile("^line \\d+(,? column \\d+)?: ");
    private static final Pattern RECORD_POSITION = Pattern.compile("[\\w.]+-\\d+@\\d+");
    private static final Pattern NAMED_RECORD =
            Pattern.compile("\\b(example|conversation|run|checkpoint) (?=\\S*\\d)\\S+?(?=[:,)]|\\s|$)");
    private static final Pattern RECORD_KEY = Pattern.compile("\\(key [^)]*\\)");
    private static final Pattern NUMBER = Pattern.compile("(?<![\\w.])\\d+(\\.\\d+)?(?![\\w.])");

    private ReasonTemplate() {}

    static String of(String reason) {
        if (reason == null) {
            return "";
        }
        String template = LINE_PREFIX.matcher(reason).replaceFirst("");
        template = RECORD_POSITION.matcher(template).replaceAll("<record>");
        template = RECORD_KEY.matcher(template).replaceAll("(key <key>)");
        template = NAMED_RECORD.matcher(template).replaceAll("$1 <id>");
        return NUMBER.matcher(template).replaceAll("<n>");
    }
}
