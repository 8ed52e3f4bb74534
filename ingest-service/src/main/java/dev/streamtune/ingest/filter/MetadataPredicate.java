package dev.streamtune.ingest.filter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.serde.EventJson;
import java.io.IOException;
import java.util.List;

/**
 * A condition on a field of the input record, written {@code path op value}: {@code metadata.augmented == true},
 * {@code metadata.score >= 3}, {@code lang != "de"}. The path is dotted; the value is a JSON literal (true, 3,
 * "text") or a bare word taken as text. A missing field satisfies only {@code !=}.
 */
public record MetadataPredicate(String expression, List<String> path, Op op, JsonNode value) {

    public enum Op {
        EQ("=="),
        NE("!="),
        GE(">="),
        LE("<="),
        GT(">"),
        LT("<");

        final String symbol;

        Op(String symbol) {
            this.symbol = symbol;
        }
    }

    public static MetadataPredicate parse(String expression) {
        for (Op op : Op.values()) { // two-character operators are tried first: they come first in Op
            int at = expression.indexOf(op.symbol);
            if (at > 0) {
                String path = expression.substring(0, at).trim();
                String literal = expression.substring(at + op.symbol.length()).trim();
                if (path.isEmpty() || literal.isEmpty()) {
                    break;
                }
                return new MetadataPredicate(expression.trim(), List.of(path.split("\\.")), op, literal(literal));
            }
        }
        throw new IllegalArgumentException("filter '" + expression + "' must be path op value with op one of"
                + " ==, !=, >=, <=, >, <; e.g. metadata.augmented==true");
    }

    private static JsonNode literal(String text) {
        try {
            return EventJson.mapper().readTree(text);
        } catch (IOException notJson) {
            return EventJson.mapper().getNodeFactory().textNode(text);
        }
    }

    public boolean test(JsonNode record) {
        JsonNode field = record;
        for (String step : path) {
            field = field == null ? null : field.get(step);
        }
        if (field == null || field.isMissingNode()) {
            return op == Op.NE;
        }
        if (field.isNumber() && value.isNumber()) {
            int order = field.decimalValue().compareTo(value.decimalValue());
            return switch (op) {
                case EQ -> order == 0;
                case NE -> order != 0;
                case GE -> order >= 0;
                case LE -> order <= 0;
                case GT -> order > 0;
                case LT -> order < 0;
            };
        }
        boolean equal = field.equals(value)
                || (value.isTextual() && field.isValueNode() && field.asText().equals(value.asText()));
        return switch (op) {
            case EQ -> equal;
            case NE -> !equal;
            default -> false; // ordering applies to numbers only
        };
    }
}
