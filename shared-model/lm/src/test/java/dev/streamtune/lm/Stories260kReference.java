package dev.streamtune.lm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference figures of stories260K, read from shared/models/stories260K/REFERENCE.md (computed independently in
 * float64 NumPy), so that the tests compare against that file and not against numbers copied into code.
 */
record Stories260kReference(
        int[] greedyIds,
        String greedyText,
        int[] forcedInput,
        int[] argmax,
        float[] firstLogits,
        int[] topIds,
        float[] topValues,
        double meanNll) {

    static Stories260kReference read(Path file) throws IOException {
        String text = Files.readString(file);
        int[] greedy = ints(after(text, "## Greedy decoding from BOS", "ids:"));
        int[] input = ints(between(text, "## Teacher-forced logits for input [", "]"));
        int[] argmax = ints(after(text, "## Teacher-forced logits", "argmax per position:"));
        float[] first = floats(after(text, "## Teacher-forced logits", "logits[0][0..7]:"));
        String top = after(text, "## Teacher-forced logits", "top 5 (id, value):");
        List<Integer> ids = new ArrayList<>();
        List<Float> values = new ArrayList<>();
        Matcher pair = Pattern.compile("\\((\\d+), (-?[0-9.]+)\\)").matcher(top);
        while (pair.find()) {
            ids.add(Integer.parseInt(pair.group(1)));
            values.add(Float.parseFloat(pair.group(2)));
        }
        Matcher nll = Pattern.compile("mean next-token NLL over the \\d+ targets: ([0-9.]+)")
                .matcher(text);
        if (!nll.find()) {
            throw new IllegalStateException("no mean NLL in " + file);
        }
        float[] topValues = new float[values.size()];
        for (int i = 0; i < topValues.length; i++) {
            topValues[i] = values.get(i);
        }
        String textLine = after(text, "## Greedy decoding from BOS", "text:").trim();
        String greedyText = textLine.substring(1, textLine.length() - 1).replace("\\n", "\n");
        return new Stories260kReference(
                greedy,
                greedyText,
                input,
                argmax,
                first,
                ids.stream().mapToInt(Integer::intValue).toArray(),
                topValues,
                Double.parseDouble(nll.group(1)));
    }

    private static String after(String text, String section, String label) {
        int start = text.indexOf(label, text.indexOf(section));
        if (start < 0) {
            throw new IllegalStateException("REFERENCE.md has no '" + label + "' in '" + section + "'");
        }
        int end = text.indexOf('\n', start);
        return text.substring(start + label.length(), end < 0 ? text.length() : end);
    }

    private static String between(String text, String open, String close) {
        int start = text.indexOf(open) + open.length();
        return text.substring(start, text.indexOf(close, start));
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .mapToInt(Integer::parseInt)
                .toArray();
    }

    private static float[] floats(String list) {
        String[] parts = Arrays.stream(list.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toArray(String[]::new);
        float[] values = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Float.parseFloat(parts[i]);
        }
        return values;
    }
}
