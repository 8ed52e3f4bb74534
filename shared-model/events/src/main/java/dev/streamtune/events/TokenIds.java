package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A token array in its wire form: little-endian int32 values, base64-encoded, inside the JSON envelope. A JSON
 * array of numbers costs about 6 bytes per token id and a slow number parse; this costs 5.33 bytes and a memcpy.
 * A JSON array of integers is accepted on input so that people can write records by hand.
 */
public final class TokenIds {

    private final int[] ids;

    private TokenIds(int[] ids) {
        this.ids = ids;
    }

    public static TokenIds of(int... ids) {
        return new TokenIds(ids.clone());
    }

    /** The length of {@code count} ids in their wire form: 4 bytes each, base64 (4 characters per 3 bytes). */
    public static long wireLength(int count) {
        return 4 * ((4L * count + 2) / 3);
    }

    public int length() {
        return ids.length;
    }

    public int get(int index) {
        return ids[index];
    }

    public int[] toArray() {
        return ids.clone();
    }

    @JsonValue
    public String toBase64() {
        ByteBuffer buffer = ByteBuffer.allocate(ids.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asIntBuffer().put(ids);
        return Base64.getEncoder().encodeToString(buffer.array());
    }

    public static TokenIds fromBase64(String base64) {
        byte[] bytes = Base64.getDecoder().decode(base64);
        if (bytes.length % Integer.BYTES != 0) {
            throw new IllegalArgumentException(
                    "token array of " + bytes.length + " bytes is not a whole number of little-endian int32 values");
        }
        int[] ids = new int[bytes.length / Integer.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(ids);
        return new TokenIds(ids);
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static TokenIds fromJson(JsonNode node) {
        if (node.isTextual()) {
            return fromBase64(node.asText());
        }
        if (node.isArray()) {
            int[] ids = new int[node.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode value = node.get(i);
                if (!value.canConvertToInt() || !value.isIntegralNumber()) {
                    throw new IllegalArgumentException(
                            "token array element " + i + " is " + value + ", expected an int32");
                }
                ids[i] = value.intValue();
            }
            return new TokenIds(ids);
        }
        throw new IllegalArgumentException("a token array is a base64 string of little-endian int32 values or a JSON"
                + " array of integers, found " + node.getNodeType().name().toLowerCase());
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TokenIds that && Arrays.equals(ids, that.ids);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids);
    }

    @Override
    public String toString() {
        return ids.length <= 16
                ? Arrays.toString(ids)
                : Arrays.toString(Arrays.copyOf(ids, 16)).replace("]", ", ... (" + ids.length + " ids)]");
    }

    static TokenIds requireSameLength(TokenIds a, TokenIds b, String what) {
        Objects.requireNonNull(a, what);
        Objects.requireNonNull(b, what);
        if (a.length() != b.length()) {
            throw new IllegalArgumentException(what + ": lengths differ (" + a.length() + " vs " + b.length() + ")");
        }
        return a;
    }
}
