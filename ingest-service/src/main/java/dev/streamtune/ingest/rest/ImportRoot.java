package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.ingest.reader.ContainerFormat;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.NotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Resolves server-side import paths inside the one configured import root. Anything that resolves outside it,
 * by {@code ..}, an absolute path or a symbolic link anywhere on the way, is refused before a byte is read.
 */
@ApplicationScoped
public class ImportRoot {

    private final IngestConfig config;

    public ImportRoot(IngestConfig config) {
        this.config = config;
    }

    /** A file to import and its name relative to the root (its source label). */
    public record ImportFile(Path path, String relativeName) {}

    public List<ImportFile> resolve(String requested) {
        if (requested == null || requested.isBlank()) {
            throw new InvalidRequestException("an import needs a path (relative to the import root)");
        }
        Path root = realRoot();
        Path target = root.resolve(requested).normalize();
        if (!target.startsWith(root)) {
            throw new InvalidRequestException("path '" + requested + "' resolves outside the import root");
        }
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new NotFoundException("no file or directory '" + requested + "' under the import root");
        }
        Path real = inside(root, target, requested);
        if (!Files.isDirectory(real)) {
            return List.of(new ImportFile(real, root.relativize(target).toString()));
        }
        try (Stream<Path> walk = Files.walk(target)) {
            List<Path> files = walk.filter(p -> !Files.isDirectory(p))
                    .filter(p -> ContainerFormat.fromFileName(p.getFileName().toString()) != null)
                    .sorted()
                    .toList();
            if (files.isEmpty()) {
                throw new InvalidRequestException("directory '" + requested + "' holds no .json, .jsonl, .ndjson, .csv"
                        + " or .parquet files (optionally .gz)");
            }
            return files.stream()
                    .map(file -> new ImportFile(
                            inside(root, file, root.relativize(file).toString()),
                            root.relativize(file).toString()))
                    .toList();
        } catch (IOException e) {
            throw new InvalidRequestException("cannot list '" + requested + "': " + e.getMessage());
        }
    }

    /** The real path of {@code path}, refusing one that a symbolic link takes outside the root. */
    private static Path inside(Path root, Path path, String shownAs) {
        try {
            Path real = path.toRealPath();
            if (!real.startsWith(root)) {
                throw new InvalidRequestException(
                        "path '" + shownAs + "' resolves outside the import root" + " through a symbolic link");
            }
            return real;
        } catch (IOException e) {
            throw new InvalidRequestException("cannot resolve '" + shownAs + "': " + e.getMessage());
        }
    }

    private Path realRoot() {
        Path root = config.importRoot()
                .orElseThrow(() -> new InvalidRequestException(
                        "server-side imports are disabled: set ingest.import-root (INGEST_IMPORT_ROOT)"));
        try {
            return root.toRealPath();
        } catch (IOException e) {
            throw new InvalidRequestException("the import root " + root + " is not readable: " + e.getMessage());
        }
    }
}
