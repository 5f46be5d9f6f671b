package dev.selfbyt.cortexsdr.spark;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The models loaded in this JVM, one per key (content hash and settings), shared by every task
 * the executor runs, for the life of the JVM: Spark runs many tasks, and many jobs, in one
 * executor, and loading a model per task would cost more than the task. Closed by a shutdown hook
 * when the executor exits.
 */
final class ExecutorModels {
  private static final Logger LOG = Logger.getLogger(ExecutorModels.class.getName());
  private static final Map<String, AutoCloseable> LOADED = new ConcurrentHashMap<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "cortexsdr-close-models"));
  }

  private ExecutorModels() {}

  /** What opens a model; may throw anything the runtime throws. */
  @FunctionalInterface
  interface Loader<T extends AutoCloseable> {
    T load() throws Exception;
  }

  /**
   * The model under {@code key}, loaded by {@code loader} on first use in this JVM (concurrent
   * first uses wait for the one load).
   */
  @SuppressWarnings("unchecked")
  static <T extends AutoCloseable> T get(String key, Loader<T> loader) {
    return (T) LOADED.computeIfAbsent(key, k -> {
      try {
        return loader.load();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
      }
    });
  }

  /** Whether this JVM holds the model under {@code key}. */
  static boolean isLoaded(String key) {
    return LOADED.containsKey(key);
  }

  /** Closes and forgets every model of this JVM (the shutdown hook; tests). */
  static void closeAll() {
    for (Map.Entry<String, AutoCloseable> e : LOADED.entrySet()) {
      try {
        e.getValue().close();
      } catch (Exception x) {
        LOG.log(Level.WARNING, "closing model " + e.getKey() + ": " + x, x);
      }
    }
    LOADED.clear();
  }
}
