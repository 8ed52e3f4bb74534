package dev.streamtune.trainer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.streamtune.events.CheckpointDigest;
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
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A run's checkpoints under {@code <checkpoint root>/<recipe id>/<run id>/checkpoint-<step>}, as Hugging Face's
 * Trainer names them.
 *
 * <p>A checkpoint is written into a hidden temporary folder beside the others, its files flushed to disk, its
 * {@link Manifest} (with the checksum of every other file) written last, and only then renamed into place in one
 * atomic step: a reader (a resumed run, eval-service) sees a whole checkpoint or none. Temporary folders left by a
 * crash are ignored, and removed by the next write.
 */
public final class CheckpointStore {

    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final String TEMPORARY_PREFIX = ".tmp-";
    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);

    private final Path runFolder;

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
        this.runFolder = root.resolve(recipeId).resolve(runId);
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
        Path temporary = runFolder.resolve(TEMPORARY_PREFIX + "checkpoint-" + manifest.step() + "-" + System.nanoTime());
        Files.createDirectories(temporary);
        try {
            contents.writeInto(temporary);
            for (Path file : CheckpointDigest.files(temporary)) {
                force(file);
            }
            Manifest complete = manifest.withChecksum(CheckpointDigest.of(temporary));
            JSON.writeValue(temporary.resolve(CheckpointDigest.MANIFEST).toFile(), complete);
            force(temporary.resolve(CheckpointDigest.MANIFEST));
            Path target = folderName(runFolder, manifest.step());
            if (Files.exists(target)) {
                delete(target); // the same step written again after a resume from an older checkpoint
            }
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the checkpoint volume at " + runFolder + " cannot rename atomically", e);
            }
            return complete;
        } catch (IOException | RuntimeException e) {
            delete(temporary);
            throw e;
        }
    }

    /** Every checkpoint folder of the run, newest first, each checked against its manifest. */
    public List<Found> list() throws IOException {
        if (!Files.isDirectory(runFolder)) {
            return List.of();
        }
        List<Found> found = new ArrayList<>();
        try (Stream<Path> folders = Files.list(runFolder)) {
            for (Path folder : folders.toList()) {
                Matcher name = NAME.matcher(folder.getFileName().toString());
                if (Files.isDirectory(folder) && name.matches()) {
                    found.add(check(Long.parseLong(name.group(1)), folder));
                }
            }
        }
        found.sort(Comparator.comparingLong(Found::step).reversed());
        return found;
    }

    /** Reads and verifies one checkpoint folder. */
    public static Found check(long step, Path folder) {
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
            String actual = CheckpointDigest.of(folder);
            if (!actual.equals(manifest.checksum())) {
                return new Found(step, folder, manifest, folder + ": its files' checksum is " + actual + ", the manifest"
                        + " recorded " + manifest.checksum() + " (a file was altered or is incomplete)");
            }
        } catch (IOException e) {
            return new Found(step, folder, manifest, folder + " cannot be read: " + e.getMessage());
        }
        return new Found(step, folder, manifest, null);
    }

    /**
     * Keeps {@code keep} checkpoints (save_total_limit): the newest and {@code protectedSteps} (the best known from
     * evaluations) always, then the newest others; the rest are deleted, oldest included. Returns the steps deleted.
     */
    public List<Long> prune(int keep, Set<Long> protectedSteps) throws IOException {
        List<Found> all = list(); // newest first
        Set<Long> retained = new java.util.HashSet<>();
        if (!all.isEmpty()) {
            retained.add(all.get(0).step());
        }
        all.stream().map(Found::step).filter(protectedSteps::contains).forEach(retained::add);
        for (Found checkpoint : all) {
            if (retained.size() >= keep) {
                break;
            }
            retained.add(checkpoint.step());
        }
        List<Long> deleted = new ArrayList<>();
        for (Found checkpoint : all) {
            if (!retained.contains(checkpoint.step())) {
                delete(checkpoint.folder());
                deleted.add(checkpoint.step());
            }
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

    private static void force(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
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
