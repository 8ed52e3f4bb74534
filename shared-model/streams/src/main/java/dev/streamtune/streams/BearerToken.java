package dev.streamtune.streams;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * The shared secret a service's write endpoints ask for ({@code Authorization: Bearer <token>}), compared in constant
 * time so that the time of a refusal says nothing about how much of a guess was right. Not configured (absent or
 * blank): nothing is required.
 */
public final class BearerToken {

    private static final String SCHEME = "Bearer ";

    private final byte[] token;

    private BearerToken(byte[] token) {
        this.token = token;
    }

    public static BearerToken of(Optional<String> configured) {
        return new BearerToken(configured
                .filter(t -> !t.isBlank())
                .map(t -> t.getBytes(StandardCharsets.UTF_8))
                .orElse(null));
    }

    /** Whether a token is configured, so that requests must present it. */
    public boolean required() {
        return token != null;
    }

    /** Whether the request's {@code Authorization} header (null when absent) presents the token. */
    public boolean admits(String authorization) {
        if (token == null) {
            return true;
        }
        byte[] presented = authorization != null && authorization.startsWith(SCHEME)
                ? authorization.substring(SCHEME.length()).trim().getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        return MessageDigest.isEqual(presented, token);
    }
}
