package dev.streamtune.events;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A folder that paths named by recipes and events must stay under: the model root, the checkpoint volume. A path is
 * inside when it is under the root after {@code ..} is resolved and after every symbolic link on the way, the root's
 * own included, is followed, so a link inside the root that points elsewhere does not lead out of it. A path that
 * does not exist yet is judged by the links of the part of it that does. The refusal reads the same whether the path
 * exists or not, so a recipe cannot probe the host's files through it.
 */
public final class ConfinedPath {

    /** As many links as Linux follows before it gives up (ELOOP): a longer chain leads nowhere. */
    private static final int MAX_LINKS = 40;

    private final Path root;
    private final String rootName;

    /**
     * @param root     the folder (it need not exist yet); relative to the working directory when relative
     * @param rootName what the folder is called in messages, e.g. "model root"
     */
    public ConfinedPath(Path root, String rootName) {
        this.root = root.toAbsolutePath().normalize();
        this.rootName = rootName;
    }

    /** The root, absolute and normalized (its links not followed). */
    public Path root() {
        return root;
    }

    /**
     * {@code named} resolved against the root (an absolute path stays itself), normalized, its links not followed, so
     * it reads as the recipe wrote it.
     *
     * @param field the recipe key or event field that named it, for the message
     * @throws IllegalArgumentException naming the field and the root when the path leads outside the root
     */
    public Path resolve(String named, String field) {
        return confine(root.resolve(named).normalize(), named, field);
    }

    /**
     * {@code path} (absolute, or relative to the working directory), normalized, when it is under the root.
     *
     * @param named how the path was given (a URI, say), for the message
     * @throws IllegalArgumentException naming the field and the root when the path leads outside the root
     */
    public Path confine(Path path, String named, String field) {
        Path normalized = path.toAbsolutePath().normalize();
        if (!contains(normalized)) {
            throw new IllegalArgumentException(field + ": '" + named + "' leads outside the " + rootName + " " + root
                    + "; only paths under it are used");
        }
        return normalized;
    }

    /** Whether {@code path} is under the root once {@code ..} and symbolic links are resolved. */
    public boolean contains(Path path) {
        Path normalized = path.toAbsolutePath().normalize();
        if (!normalized.startsWith(root)) {
            return false;
        }
        Path real = real(normalized, 0);
        return real != null && real.startsWith(real(root, 0));
    }

    /**
     * Where {@code path} (absolute, normalized) really leads: the real path of its longest existing part, with the
     * rest appended; a dangling link is followed by hand. Null when links loop or a real path cannot be had.
     */
    private static Path real(Path path, int links) {
        if (links > MAX_LINKS) {
            return null;
        }
        Deque<Path> missing = new ArrayDeque<>();
        Path existing = path;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            missing.push(existing.getFileName());
            existing = existing.getParent();
        }
        if (existing == null) {
            return path;
        }
        Path base;
        try {
            if (Files.isSymbolicLink(existing) && !Files.exists(existing)) {
                // dangling: where it would lead decides, so a link out of the root is refused alike, target or not
                Path target = existing.getParent().toRealPath().resolve(Files.readSymbolicLink(existing));
                base = real(target.normalize(), links + 1);
                if (base == null) {
                    return null;
                }
            } else {
                base = existing.toRealPath();
            }
        } catch (IOException e) {
            return null; // unreadable: refused rather than guessed at
        }
        for (Path name : missing) {
            base = base.resolve(name);
        }
        return base;
    }
}
