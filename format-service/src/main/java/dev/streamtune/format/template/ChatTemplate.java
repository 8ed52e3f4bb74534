package dev.streamtune.format.template;

import dev.streamtune.events.Message;
import java.util.List;

/**
 * Renders a conversation as a model expects to read it, piece by piece (see {@link Piece}), so that which
 * characters are trained is decided by the rendering itself, never by searching the text for a marker.
 */
public interface ChatTemplate {

    /** The name recipes use: chatml, instruction, chat, llama3, jinja. */
    String name();

    /**
     * @param messages the conversation, the system prompt (if any) already resolved as its first message
     * @throws TemplateException when this template cannot render the conversation (a role it lacks, a template
     *                           error); the caller dead-letters the conversation with the message
     */
    List<Piece> render(List<Message> messages);
}
