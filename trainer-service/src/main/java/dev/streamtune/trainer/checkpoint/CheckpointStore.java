package dev.streamtune.trainer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.streamtune.events.CheckpointDigest;
import dev.streamtune.events.ConfinedPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A run's checkpoints under {@code <checkpoint root>/<recipe id>/<run id>/checkpoint-<step>}, as Hugging Face's
 * Trainer names them.
 *
 * <p>A checkpoint is written into a hidden temporary folder beside the others, its files flushed to disk, its
 * {@link Manifest} (with the checksum of every other file) written last, and only then renamed into place in one
 * atomic step, after which the run's folder itself is flushed, so that the rename survives a power cut: a reader (a
 * resumed run, eval-service) sees a whole checkpoint or none. A step written again (after a resume from an older
 * checkpoint) moves the old folder aside under a temporary name, renames the new one into place, and only then
 * deletes the old one, so the step has a whole folder at every moment but the one between the two renames. Temporary
 * folders left by a crash are ignored, and removed by the next write.
 *
 * <p>Verifying a folder reads every byte of it (its SHA-256), so it is done only where a checkpoint is about to be
 * used ({@link #newestValid}): retention ({@link #prune}) goes by the folders' names.
 */
public final class CheckpointStore {

    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final String TEMPORARY_PREFIX = ".tmp-";
    static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private final Path runFolder;
    private final Digest digest;

    /** How a folder's checksum is computed: {@link CheckpointDigest#of}, counted in tests. */
    @FunctionalInterface
    public interface Digest {
        String of(Path folder) throws IOException;
    }

    /** What goes into a checkpoint's folder besides its manifest. */
    @FunctionalInterface
    public interface Contents {
        void writeInto(Path folder) throws IOException;
    }

    /** A checkpoint folder as found: valid with its manifest, or not, with why. */
    public record Found(long step, Path folder, Manifest manifest, String problem) {
        public boolean valid() {
            return problem == null;
        }
    }

    public CheckpointStore(Path root, String recipeId, String runId) {
        this(root, recipeId, runId, CheckpointDigest::of);
    }

    public CheckpointStore(Path root, String recipeId, String runId, Digest digest) {
        // the recipe id names the folder, and a recipe on the topic may carry any id: it must not lead out of the root
        this.runFolder = new ConfinedPath(root, "checkpoint root").resolve(recipeId + "/" + runId, "id");
        this.digest = digest;
    }

    public Path runFolder() {
        return runFolder;
    }

    public static Path folderName(Path runFolder, long step) {
        return runFolder.resolve("checkpoint-" + step);
    }

    /** Writes a checkpoint atomically; returns its manifest, checksum included. */
    public Manifest write(Manifest manifest, Contents contents) throws IOException {
        Files.createDirectories(runFolder);
        removeTemporaries();
        Path temporary =
                runFolder.resolve(TEMPORARY_PREFIX + "checkpoint-" + manifest.step() + "-" + System.nanoTime());
        Files.createDirectories(temporary);
        try {
            contents.writeInto(temporary);
            for (Path file : CheckpointDigest.files(temporary)) {
                force(file);
            }
            Manifest complete = manifest.withChecksum(digest.of(temporary));
            JSON.writeValue(temporary.resolve(CheckpointDigest.MANIFEST).toFile(), complete);
            force(temporary.resolve(CheckpointDigest.MANIFEST));
            forceFolders(temporary);
            Path target = folderName(runFolder, manifest.step());
            Path replaced = null;
            if (Files.exists(target)) {
                // the same step written again after a resume from an older checkpoint: the old folder goes aside
                replaced = runFolder.resolve(
                        TEMPORARY_PREFIX + "replaced-checkpoint-" + manifest.step() + "-" + System.nanoTime());
                atomicMove(target, replaced);
            }
            atomicMove(temporary, target);
            force(runFolder);
            if (replaced != null) {
                delete(replaced);
            }
            return complete;
        } catch (IOException | RuntimeException e) {
            delete(temporary);
            throw e;
        }
    }

    private void atomicMove(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the checkpoint volume at " + runFolder + " cannot rename atomically", e);
        }
    }

    /** A checkpoint folder by its name, not yet verified. */
    public record Folder(long step, Path path) {}

    /** The run's checkpoint folders by name, newest first, none of them read. */
    public List<Folder> folders() throws IOException {
        if (!Files.isDirectory(runFolder)) {
            return List.of();
        }
        List<Folder> found = new ArrayList<>();
        try (Stream<Path> folders = Files.list(runFolder)) {
            for (Path folder : folders.toList()) {
                Matcher name = NAME.matcher(folder.getFileName().toString());
                if (Files.isDirectory(folder) && name.matches()) {
                    found.add(new Folder(Long.parseLong(name.group(1)), folder));
                }
            }
        }
        found.sort(Comparator.comparingLong(Folder::step).reversed());
        return found;
    }

    /** Every checkpoint folder of the run, newest first, each checked against its manifest (every byte read). */
    public List<Found> list() throws IOException {
        List<Found> found = new ArrayList<>();
        for (Folder folder : folders()) {
            found.add(check(folder.step(), folder.path(), digest));
        }
        return found;
    }

    /**
     * The newest checkpoint that verifies, reading folders newest first only until one does; each one passed over is
     * handed to {@code passedOver} with why. Null when none verifies.
     */
    public Found newestValid(Consumer<Found> passedOver) throws IOException {
        return newestUsable(found -> {}, passedOver);
    }

    /** Puts a verified checkpoint to use (restores it); an {@link UnusableException} when it cannot, saying why. */
    @FunctionalInterface
    public interface Use {
        void use(Found checkpoint) throws UnusableException;
    }

    /** A checkpoint that verifies and still cannot be used (its state does not restore), with why. */
    public static final class UnusableException extends Exception {
        public UnusableException(String why, Throwable cause) {
            super(why, cause);
        }
    }

    /**
     * The newest checkpoint that verifies and that {@code use} takes, reading folders newest first only until one
     * does; each one passed over (damaged, or refused by {@code use}) is handed to {@code passedOver} with why. Null
     * when none is usable. Anything else {@code use} throws ends the search.
     */
    public Found newestUsable(Use use, Consumer<Found> passedOver) throws IOException {
        for (Folder folder : folders()) {
            Found found = verify(folder);
            if (!found.valid()) {
                passedOver.accept(found);
                continue;
            }
            try {
                use.use(found);
                return found;
            } catch (UnusableException e) {
                passedOver.accept(new Found(found.step(), found.folder(), found.manifest(), e.getMessage()));
            }
        }
        return null;
    }

    /** One folder checked against its manifest (every byte read). */
    public Found verify(Folder folder) {
        return check(folder.step(), folder.path(), digest);
    }

    /** Reads and verifies one checkpoint folder. */
    public static Found check(long step, Path folder) {
        return check(step, folder, CheckpointDigest::of);
    }

    private static Found check(long step, Path folder, Digest digest) {
        Path manifestFile = folder.resolve(CheckpointDigest.MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            return new Found(step, folder, null, folder + " has no " + CheckpointDigest.MANIFEST);
        }
        Manifest manifest;
        try {
            manifest = JSON.readValue(manifestFile.toFile(), Manifest.class);
        } catch (IOException e) {
            return new Found(step, folder, null, manifestFile + " cannot be read: " + e.getMessage());
        }
        if (manifest.step() != step) {
            return new Found(step, folder, manifest, manifestFile + " says step " + manifest.step());
        }
        try {
            String actual = digest.of(folder);
            if (!actual.equals(manifest.checksum())) {
                return new Found(
                        step,
                        folder,
                        manifest,
                        folder + ": its files' checksum is " + actual + ", the manifest" + " recorded "
                                + manifest.checksum() + " (a file was altered or is incomplete)");
            }
        } catch (IOException e) {
            return new Found(step, folder, manifest, folder + " cannot be read: " + e.getMessage());
        }
        return new Found(step, folder, manifest, null);
    }

    /**
     * Keeps {@code keep} checkpoints (save_total_limit): the newest and {@code protectedSteps} (the best, and those
     * whose evaluation is awaited) always, then the newest others; the rest are deleted, oldest included. Goes by the
     * folders' names: nothing is read. Returns the steps deleted.
     */
    public List<Long> prune(int keep, Set<Long> protectedSteps) throws IOException {
        List<Folder> all = folders(); // newest first
        Set<Long> retained = new HashSet<>();
        if (!all.isEmpty()) {
            retained.add(all.get(0).step());
        }
        all.stream().map(Folder::step).filter(protectedSteps::contains).forEach(retained::add);
        for (Folder checkpoint : all) {
            if (retained.size() >= keep) {
                break;
            }
            retained.add(checkpoint.step());
        }
        List<Long> deleted = new ArrayList<>();
        for (Folder checkpoint : all) {
            if (!retained.contains(checkpoint.step())) {
                delete(checkpoint.path());
                deleted.add(checkpoint.step());
            }
        }
        if (!deleted.isEmpty()) {
            force(runFolder);
        }
        return deleted;
    }

    private void removeTemporaries() throws IOException {
        try (Stream<Path> folders = Files.list(runFolder)) {
            for (Path folder : folders.toList()) {
                if (folder.getFileName().toString().startsWith(TEMPORARY_PREFIX)) {
                    delete(folder);
                }
            }
        }
    }

    /** Flushes the entries of {@code folder} and of every folder inside it, deepest first. */
    private static void forceFolders(Path folder) throws IOException {
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.filter(Files::isDirectory)
                    .sorted(Comparator.reverseOrder())
                    .toList()) {
                force(path);
            }
        }
    }

    /** Flushes a file's data, or a folder's entries (a rename or a new file in it), to the disk. */
    private static void force(Path path) throws IOException {
        try (FileChannel channel =
                FileChannel.open(path, Files.isDirectory(path) ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    static void delete(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + folder, e);
        }
    }
}
