package dev.streamtune.format.template;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.fn.Functions;
import dev.streamtune.events.Message;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's own {@code chat_template} (Jinja, from its tokenizer_config.json), rendered with Jinjava the way
 * transformers renders it: {@code trim_blocks} and {@code lstrip_blocks}, variables {@code messages},
 * {@code bos_token}, {@code eos_token}, {@code add_generation_prompt}, and the {@code raise_exception} and
 * {@code strftime_now} functions.
 *
 * <p>Trainable spans come from rendering, not from searching for a marker: the conversation is rendered up to
 * each message, and each message's text is the difference between consecutive renderings. Within it, the content
 * is located by rendering the same prefix with the content replaced by a sentinel (so the words of the content
 * appearing in the role header cannot confuse it); what follows the content up to trailing whitespace is the turn
 * end ({@code <|im_end|>}, {@code <|eot_id|>}, EOS), trained with an assistant turn.
 *
 * <p>The template runs in a sandbox: it cannot include or import anything, its output, strings, lists and ranges
 * are bounded, and each render is bounded by a node budget and by a wall-clock time limit, both checked before
 * every node Jinjava renders (an empty loop body renders none, but each pass of the loop around it does), and a
 * conversation by a number of renders ({@link JinjaLimits}), so a hostile or broken template is an error that
 * names the limit, never a hang.
 */
public final class JinjaChatTemplate implements ChatTemplate {

    private static final int MAX_OUTPUT_CHARS = 4_000_000;
    private static final long NODE_BUDGET = 2_000_000;
    private static final ThreadLocal<Allowance> ALLOWANCE = new ThreadLocal<>();

    private final String name;
    private final String source;
    private final SpecialTokens tokens;
    private final String date;
    private final JinjaLimits limits;
    private final Jinjava jinjava;

    /** A template within the {@linkplain JinjaLimits#DEFAULT default limits}. */
    public JinjaChatTemplate(String source, SpecialTokens tokens, String date) {
        this(source, tokens, date, JinjaLimits.DEFAULT);
    }

    /**
     * @param date   what {@code strftime_now} returns (Llama 3.1 puts today's date in its system header): fixed, so
     *               the same conversation always renders the same text
     * @param limits the time one render and the renders one conversation may take
     */
    public JinjaChatTemplate(String source, SpecialTokens tokens, String date, JinjaLimits limits) {
        this("jinja", source, tokens, date, limits);
    }

    /**
     * @param name what recipes call this template (see {@link NamedTemplates}): "jinja" for a model's own
     */
    JinjaChatTemplate(String name, String source, SpecialTokens tokens, String date, JinjaLimits limits) {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException(
                    "the jinja template needs the model's chat_template (tokenizer_config.json"
                            + " of model_config.pretrained_model_name_or_path, or data_config.chat_template)");
        }
        this.name = name;
        this.source = source;
        this.tokens = tokens;
        this.date = date;
        this.limits = limits;
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withMaxStringLength(MAX_OUTPUT_CHARS)
                .withMaxListSize(100_000)
                .withMaxMapSize(100_000)
                .withRangeLimit(100_000)
                .withMaxRenderDepth(20)
                .withEnableRecursiveMacroCalls(false)
                .withNestedInterpretationEnabled(false) // data that looks like {{ ... }} must stay data
                .withLegacyOverrides(LegacyOverrides.newBuilder() // behave as Jinja2 does, not as Jinjava used to
                        .withUseTrimmingForNotesAndExpressions(true) // {{- x -}} trims like {%- -%}
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true) // a + b | trim filters b only
                        .withHandleBackslashInQuotesOnly(true) // '\n' in a string literal is a newline
                        .withKeepNullableLoopValues(true)
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withUsePyishObjectMapper(true) // tojson as Python prints it
                        .build())
                .withNodePreProcessor((node, interpreter) -> ALLOWANCE.get().spend(1, node.getLineNumber()))
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.setResourceLocator((included, encoding, interpreter) -> {
            throw new IOException(
                    "a chat template may not include or import other templates (asked for '" + included + "')");
        });
        jinjava.registerFunction(new ELFunctionDefinition(
                "", "raise_exception", JinjaChatTemplate.class, "raiseException", String.class));
        jinjava.registerFunction(
                new ELFunctionDefinition("", "strftime_now", JinjaChatTemplate.class, "strftimeNow", String.class));
        jinjava.registerFunction(
                new ELFunctionDefinition("", "range", JinjaChatTemplate.class, "range", Object.class, Object[].class));
        render(List.of(), false); // a template that does not even parse fails here, when the recipe is activated
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * What the model reads before it writes its answer to {@code messages}: the template rendered with
     * {@code add_generation_prompt}, as transformers' {@code apply_chat_template} renders an inference prompt.
     */
    public String generationPrompt(List<Message> messages) {
        return render(messages, true);
    }

    @Override
    public List<Piece> render(List<Message> messages) {
        int renders = 2 * messages.size() + 1;
        if (renders > limits.maxRenders()) {
            throw new TemplateException(messages.size() + " messages need " + renders + " renders of the chat template,"
                    + " more than the " + limits.maxRenders() + " allowed per conversation (format.jinja.max-renders)");
        }
        List<Piece> pieces = new ArrayList<>();
        String previous = "";
        String closing = "";
        for (int i = 0; i < messages.size(); i++) {
            String current = render(messages.subList(0, i + 1), false);
            if (i == 0) {
                // What the template emits before any message (BOS, a default system prompt) is text outside them,
                // unless that text changes once a message exists (a default system prompt a system message
                // replaces): then it is part of the first message's header. What it emits only after the last
                // message (Phi-3's EOS when no generation prompt follows) closes the conversation: it is taken
                // off every rendering and put back once, at the end.
                String empty = render(List.of(), false);
                closing = closing(empty, current);
                empty = empty.substring(0, empty.length() - closing.length());
                if (!empty.isEmpty() && current.startsWith(empty)) {
                    pieces.add(Piece.filler(-1, empty));
                    previous = empty;
                }
            }
            current = withoutClosing(current, closing, i);
            requirePrefix(previous, current, i);
            pieces.addAll(message(i, messages, previous, current.substring(previous.length()), closing));
            previous = current;
        }
        if (!closing.isEmpty()) {
            pieces.add(Piece.filler(-1, closing));
        }
        return pieces;
    }

    /**
     * The text a template emits only after the last message: the longest tail of its empty rendering that the
     * first message's rendering also ends with, the rest of the empty rendering being a prefix of it (the longest,
     * so that Phi-3's {@code <|endoftext|>} is not cut after a {@code <|} the first turn also starts with); none
     * when the empty rendering already is a prefix (BOS), or no such tail exists (a default system prompt).
     */
    private static String closing(String empty, String first) {
        if (first.startsWith(empty)) {
            return "";
        }
        for (int length = empty.length(); length > 0; length--) {
            String tail = empty.substring(empty.length() - length);
            if (first.endsWith(tail) && first.startsWith(empty.substring(0, empty.length() - length))) {
                return tail;
            }
        }
        return "";
    }

    private static String withoutClosing(String rendered, String closing, int index) {
        if (!rendered.endsWith(closing)) {
            throw new TemplateException("the chat template ends the conversation up to message " + index
                    + " without the closing text '" + closing + "' it ends the others with, so trainable spans cannot"
                    + " be derived exactly by rendering prefixes");
        }
        return rendered.substring(0, rendered.length() - closing.length());
    }

    /**
     * Splits message i's text into [header][content][turn end][trailing whitespace] by rendering the same prefix
     * with the message's content replaced by a sentinel that cannot occur in data: what surrounds the sentinel is
     * the template's own text around the content, wherever and however often the content's words occur in it.
     */
    private List<Piece> message(int index, List<Message> messages, String previous, String text, String closing) {
        Message message = messages.get(index);
        String sentinel = SENTINEL_START + index + SENTINEL_END;
        List<Message> probe = new ArrayList<>(messages.subList(0, index));
        probe.add(new Message(message.role(), sentinel));
        String probed = withoutClosing(render(probe, false), closing, index);
        if (text.isEmpty() && probed.equals(previous)) {
            // A message the template folds into the next one (Llama 2, Mistral and Gemma put the system message
            // inside the first user turn): it renders nothing of its own, and its text is the next one's header.
            return List.of();
        }
        int at = probed.indexOf(sentinel, previous.length());
        if (!probed.startsWith(previous) || at < 0 || probed.indexOf(sentinel, at + 1) >= 0) {
            throw new TemplateException(
                    "message " + index + " (" + message.role().wireName() + "): the chat template"
                            + " does not place the message's content once, as given, so its trainable characters cannot be"
                            + " marked exactly");
        }
        String before = probed.substring(previous.length(), at);
        String after = probed.substring(at + sentinel.length());
        String content =
                text.length() >= before.length() + after.length() && text.startsWith(before) && text.endsWith(after)
                        ? text.substring(before.length(), text.length() - after.length())
                        : null;
        if (content == null
                || !(content.equals(message.content())
                        || content.equals(message.content().strip()))) {
            throw new TemplateException(
                    "message " + index + " (" + message.role().wireName() + "): the chat template"
                            + " changes the content beyond trimming it, so its trainable characters cannot be marked exactly");
        }
        List<Piece> pieces = new ArrayList<>();
        String turnEnd = after.stripTrailing();
        if (!before.isEmpty()) {
            pieces.add(Piece.header(index, before));
        }
        if (!content.isEmpty()) {
            pieces.add(Piece.content(index, content));
        }
        if (!turnEnd.isEmpty()) {
            pieces.add(Piece.turnEnd(index, turnEnd));
        }
        if (after.length() > turnEnd.length()) {
            pieces.add(Piece.filler(index, after.substring(turnEnd.length())));
        }
        return pieces;
    }

    /** Private-use characters: no tokenizer or dataset gives them meaning, and templates pass them through. */
    private static final String SENTINEL_START = "\uE000content-";

    private static final String SENTINEL_END = "\uE001";

    private static void requirePrefix(String previous, String current, int index) {
        if (!current.startsWith(previous)) {
            throw new TemplateException("the chat template renders the conversation before message " + index
                    + " differently once message " + index + " follows, so trainable spans cannot be derived exactly"
                    + " by rendering prefixes");
        }
    }

    /** The template's output for these messages. */
    String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Message message : messages) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("role", message.role().wireName());
            entry.put("content", message.content());
            list.add(entry);
        }
        Map<String, Object> context = new HashMap<>();
        context.put("messages", list);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", tokens.bosToken() == null ? "" : tokens.bosToken());
        context.put("eos_token", tokens.eosToken() == null ? "" : tokens.eosToken());
        context.put("date_string", date);
        STRFTIME_DATE.set(date);
        ALLOWANCE.set(new Allowance(limits));
        RenderResult result;
        try {
            result = jinjava.renderForResult(source, context);
        } catch (TemplateException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new TemplateException("the chat template failed: " + e.getMessage(), e);
        } finally {
            ALLOWANCE.remove();
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                Throwable cause = error.getException();
                while (cause != null && !(cause instanceof TemplateException) && cause.getCause() != cause) {
                    cause = cause.getCause();
                }
                if (cause instanceof TemplateException templateException) {
                    throw templateException;
                }
                throw new TemplateException(
                        "the chat template failed at line " + error.getLineno() + ": " + error.getMessage());
            }
        }
        return result.getOutput();
    }

    /**
     * Jinja's {@code range}, charged to the render's budget by its length: an empty loop body renders no node, so
     * without this, nested loops over ranges would run unbounded.
     */
    public static List<Integer> range(Object start, Object... rest) {
        List<Integer> values = Functions.range(start, rest);
        ALLOWANCE.get().spend(values.size(), JinjavaInterpreter.getCurrent().getLineNumber());
        return values;
    }

    /**
     * What is left of one render's node budget and time. Jinjava calls the node pre-processor before every node it
     * renders, including a loop each time the loop around it passes, so between two checks there is at most one
     * loop over a bounded collection with an empty body: the limit is overrun by milliseconds, not minutes.
     */
    private static final class Allowance {

        private final JinjaLimits limits;
        private final long deadline;
        private long nodesLeft = NODE_BUDGET;

        Allowance(JinjaLimits limits) {
            this.limits = limits;
            this.deadline = System.nanoTime() + limits.renderTimeout().toNanos();
        }

        void spend(long nodes, int line) {
            nodesLeft -= nodes;
            if (nodesLeft < 0) {
                throw new TemplateException("the chat template exceeded its budget of " + NODE_BUDGET
                        + " rendered nodes and range elements at line " + line
                        + ": it loops too much to be a chat template");
            }
            if (System.nanoTime() - deadline > 0) {
                throw new TemplateException("the chat template exceeded its time limit of " + limits.describeTimeout()
                        + " per render (format.jinja.render-timeout) at line " + line
                        + ": it loops too much to be a chat template");
            }
        }
    }

    /** Hugging Face's {@code raise_exception(message)}: the template refuses the conversation. */
    public static Object raiseException(String message) {
        throw new TemplateException("the chat template refused the conversation: " + message);
    }

    /** Hugging Face's {@code strftime_now(format)}; returns the template's fixed date (see the constructor). */
    public static String strftimeNow(String format) {
        return STRFTIME_DATE.get();
    }

    private static final ThreadLocal<String> STRFTIME_DATE = ThreadLocal.withInitial(() -> "26 Jul 2024");
}
