package dev.streamtune.format.render;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.events.Segment;
import dev.streamtune.format.template.ChatTemplate;
import dev.streamtune.format.template.InstructionTemplate;
import dev.streamtune.format.template.Piece;
import dev.streamtune.format.template.TemplateException;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a conversation for one recipe: its system prompt policy, its template, and which turns are trained.
 * Adjacent pieces with the same flags are merged into segments; the segments joined are exactly the rendered text.
 *
 * <p>A turn of weight 0 (OpenAI's fine-tuning {@code weight}, see {@link Message#untrained()}) is rendered as
 * context and its content and turn end are never trained, whatever {@link TrainOn} says.
 */
public final class ExampleRenderer {

    private final String recipeId;
    private final ChatTemplate template;
    private final TrainOn trainOn;
    private final SystemPrompt systemPrompt;

    public ExampleRenderer(String recipeId, ChatTemplate template, TrainOn trainOn, SystemPrompt systemPrompt) {
        this.recipeId = recipeId;
        this.template = template;
        this.trainOn = trainOn;
        this.systemPrompt = systemPrompt;
    }

    public ChatTemplate template() {
        return template;
    }

    /**
     * @throws TemplateException when the template cannot render the conversation or it has nothing to train on;
     *                           the message says why
     */
    public FormattedExample render(Conversation conversation) {
        List<Message> messages = systemPrompt.apply(conversation.messages());
        int lastAssistant = -1;
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).role() == Role.ASSISTANT) {
                lastAssistant = i;
            }
        }
        if (lastAssistant < 0 && trainOn != TrainOn.ALL) {
            throw new TemplateException("the conversation has no assistant turn to train on (train_on: "
                    + trainOn.name().toLowerCase() + ")");
        }
        List<Piece> pieces = template instanceof InstructionTemplate instruction && conversation.instruction() != null
                ? instruction.render(
                        messages,
                        conversation.instruction().instruction(),
                        conversation.instruction().input())
                : template.render(messages);
        List<Segment> segments = segments(pieces, messages, lastAssistant);
        if (trainOn != TrainOn.ALL && segments.stream().noneMatch(Segment::trainable)) {
            throw new TemplateException("the conversation has nothing to train on: "
                    + (trainOn == TrainOn.LAST_ASSISTANT ? "its last assistant turn has" : "every assistant turn has")
                    + " weight 0 (train_on: " + trainOn.name().toLowerCase() + ")");
        }
        String reference =
                lastAssistant < 0 ? null : messages.get(lastAssistant).content();
        return new FormattedExample(
                FormattedExample.SCHEMA_VERSION,
                recipeId,
                conversation.id(),
                conversation.dataset(),
                conversation.split(),
                template.name(),
                segments,
                reference,
                conversation.source());
    }

    private List<Segment> segments(List<Piece> pieces, List<Message> messages, int lastAssistant) {
        List<Segment> segments = new ArrayList<>();
        StringBuilder rendered = new StringBuilder();
        StringBuilder text = new StringBuilder();
        boolean trainable = false;
        boolean markup = false;
        for (Piece piece : pieces) {
            rendered.append(piece.text());
            if (piece.text().isEmpty()) {
                continue;
            }
            boolean pieceTrainable = trainable(piece, messages, lastAssistant);
            if (!text.isEmpty() && (pieceTrainable != trainable || piece.isMarkup() != markup)) {
                segments.add(new Segment(text.toString(), trainable, markup));
                text.setLength(0);
            }
            text.append(piece.text());
            trainable = pieceTrainable;
            markup = piece.isMarkup();
        }
        if (!text.isEmpty()) {
            segments.add(new Segment(text.toString(), trainable, markup));
        }
        StringBuilder joined = new StringBuilder();
        segments.forEach(segment -> joined.append(segment.text()));
        if (!joined.toString().contentEquals(rendered)) { // cannot happen; a contract worth checking on every record
            throw new IllegalStateException("segments do not join to the rendered text for recipe " + recipeId);
        }
        return segments;
    }

    private boolean trainable(Piece piece, List<Message> messages, int lastAssistant) {
        boolean turnItself = piece.part() == Piece.Part.CONTENT || piece.part() == Piece.Part.TURN_END;
        if (turnItself && piece.message() >= 0 && messages.get(piece.message()).untrained()) {
            return false;
        }
        if (trainOn == TrainOn.ALL) {
            return true;
        }
        if (piece.message() < 0 || messages.get(piece.message()).role() != Role.ASSISTANT || !turnItself) {
            return false;
        }
        return trainOn == TrainOn.ASSISTANT || piece.message() == lastAssistant;
    }
}
