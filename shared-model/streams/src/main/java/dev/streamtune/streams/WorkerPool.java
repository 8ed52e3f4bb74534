package dev.streamtune.streams;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** One thread per recipe's worker: started, replaced (a changed recipe) and stopped (a tombstone, shutdown). */
public final class WorkerPool<W extends RecipeStreamWorker> {

    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final String threadPrefix;
    private final Map<String, Running<W>> workers = new ConcurrentHashMap<>();
    private final List<Consumer<String>> startListeners = new CopyOnWriteArrayList<>();

    private record Running<W>(W worker, Thread thread) {
    }

    public WorkerPool(String threadPrefix) {
        this.threadPrefix = threadPrefix;
    }

    /** Starts a worker for its recipe, stopping the one of an earlier version of the recipe first. */
    public synchronized void start(W worker) {
        stop(worker.recipeId());
        Thread thread = new Thread(worker, threadPrefix + "-" + worker.recipeId());
        thread.setDaemon(true);
        workers.put(worker.recipeId(), new Running<>(worker, thread));
        thread.start();
        startListeners.forEach(listener -> listener.accept(worker.recipeId()));
    }

    /** Calls {@code listener} with the recipe id of every worker started from now on (replacements included). */
    public void onStart(Consumer<String> listener) {
        startListeners.add(listener);
    }

    /** Stops a recipe's worker and waits for it; returns whether there was one. */
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
