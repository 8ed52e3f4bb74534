package dev.streamtune.streams;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * One thread per recipe's worker: started, replaced (a new version of the recipe), restarted (a resume), retired (a
 * tombstone) and stopped (shutdown).
 *
 * <p>A worker that takes over from an earlier one of its recipe runs only once the earlier one's thread has ended:
 * whatever the earlier one held (a trainer's model, gradients and optimiser state) is let go before the new one
 * loads its own, so the two are never in memory together. The caller is not held up meanwhile (a new version
 * arriving on the recipes topic does not stall the topic's reader): the new worker's thread waits.
 */
public final class WorkerPool<W extends RecipeStreamWorker> {

    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Logger LOG = Logger.getLogger(WorkerPool.class);

    private final String threadPrefix;
    private final Map<String, Running<W>> workers = new ConcurrentHashMap<>();
    private final List<Consumer<String>> startListeners = new CopyOnWriteArrayList<>();

    private record Running<W>(W worker, Thread thread) {}

    public WorkerPool(String threadPrefix) {
        this.threadPrefix = threadPrefix;
    }

    /** Starts a worker for its recipe; an earlier worker of the recipe is stopped (not retired) first: a restart. */
    public synchronized void start(W worker) {
        Running<W> earlier = workers.remove(worker.recipeId());
        if (earlier != null) {
            earlier.worker().stop();
        }
        launch(worker, earlier);
    }

    /** Starts the worker of a new version of its recipe; the earlier version's worker is retired, saying why. */
    public synchronized void replace(W worker, String why) {
        Running<W> earlier = workers.remove(worker.recipeId());
        if (earlier != null) {
            earlier.worker().retire(why);
        }
        launch(worker, earlier);
    }

    private void launch(W worker, Running<W> earlier) {
        Thread predecessor = earlier == null ? null : earlier.thread();
        Thread thread = new Thread(
                () -> {
                    if (predecessor != null && !awaitEnd(predecessor, worker.recipeId())) {
                        return; // interrupted while waiting: the service is stopping
                    }
                    worker.run();
                },
                threadPrefix + "-" + worker.recipeId());
        thread.setDaemon(true);
        workers.put(worker.recipeId(), new Running<>(worker, thread));
        thread.start();
        startListeners.forEach(listener -> listener.accept(worker.recipeId()));
    }

    /** Waits for the earlier worker's thread to end; false when interrupted. */
    private static boolean awaitEnd(Thread predecessor, String recipeId) {
        try {
            while (true) {
                predecessor.join(STOP_TIMEOUT.toMillis());
                if (!predecessor.isAlive()) {
                    return true;
                }
                LOG.warnf(
                        "recipe %s: the earlier worker has not ended after %s (a long step finishing); its successor"
                                + " waits for it",
                        recipeId, STOP_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Calls {@code listener} with the recipe id of every worker started from now on (replacements included). */
    public void onStart(Consumer<String> listener) {
        startListeners.add(listener);
    }

    /**
     * Retires a recipe's worker (its recipe was deleted, or its new version cannot be carried out), saying why, and
     * does not wait for it; returns whether there was one.
     */
    public synchronized boolean retire(String recipeId, String why) {
        Running<W> running = workers.remove(recipeId);
        if (running == null) {
            return false;
        }
        running.worker().retire(why);
        return true;
    }

    /** Stops a recipe's worker and waits for it (for a while); returns whether there was one. */
    public synchronized boolean stop(String recipeId) {
        Running<W> running = workers.remove(recipeId);
        if (running == null) {
            return false;
        }
        running.worker().stop();
        try {
            running.thread().join(STOP_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    public void stopAll() {
        for (String id : workers.keySet()) {
            stop(id);
        }
    }

    /** A recipe's worker, or null. */
    public W get(String recipeId) {
        Running<W> running = workers.get(recipeId);
        return running == null ? null : running.worker();
    }

    /** Every worker, by recipe id. */
    public Map<String, W> all() {
        Map<String, W> all = new TreeMap<>();
        workers.forEach((id, running) -> all.put(id, running.worker()));
        return all;
    }
}
