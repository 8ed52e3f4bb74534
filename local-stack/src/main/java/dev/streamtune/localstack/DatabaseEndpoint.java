package dev.streamtune.localstack;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How to reach a PostgreSQL database. */
public record DatabaseEndpoint(String jdbcUrl, String username, String password) {

    private static final String HIDDEN = "***";

    /** A {@code password=} or {@code sslpassword=} parameter (any case), up to the next parameter. */
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)([?&;][^?&;=]*password=)[^&;]*");

    /** The JDBC URL to show in logs and on the console: {@link #withoutPasswords(String)}. */
    public String printableJdbcUrl() {
        return withoutPasswords(jdbcUrl);
    }

    /**
     * A JDBC URL with every password in it replaced by {@code ***}: the one in its user-info
     * ({@code //user:secret@host}) and the values of its {@code password} and {@code sslpassword} parameters, so that
     * the URL can be printed. The rest of the URL, the user name included, is kept as written.
     */
    public static String withoutPasswords(String jdbcUrl) {
        if (jdbcUrl == null) {
            return null;
        }
        String url = jdbcUrl;
        int authority = url.indexOf("//");
        if (authority >= 0) {
            authority += 2;
            int query = url.indexOf('?', authority);
            // The last '@' before the query ends the user-info: a password may hold '@' or '/' unescaped.
            int at = url.lastIndexOf('@', query < 0 ? url.length() : query);
            int colon = url.indexOf(':', authority);
            if (at > authority && colon >= 0 && colon < at) {
                url = url.substring(0, colon + 1) + HIDDEN + url.substring(at);
            }
        }
        return PASSWORD_PARAMETER.matcher(url).replaceAll("$1" + Matcher.quoteReplacement(HIDDEN));
    }
}
