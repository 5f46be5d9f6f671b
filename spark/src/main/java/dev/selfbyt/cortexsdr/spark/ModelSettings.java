package dev.selfbyt.cortexsdr.spark;

import java.io.IOException;
import java.io.Serializable;
import org.apache.spark.TaskContext;
import org.apache.spark.util.LongAccumulator;

/**
 * What an executor needs to load and run a model: the shipped file, the runtime, the threads per
 * task; serializable, it travels in the task closure. {@link #runner()} gives the executor's one
 * shared {@link ModelRunner}.
 */
public final class ModelSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  private final ShippedFile model;
  private final ModelRuntime runtime;
  private final int threads;
  private final LongAccumulator bytesLoaded;

  /**
   * @param threads the runtime's threads per model; 0: the task's cores ({@code spark.task.cpus},
   *     1 by default), so that a model never takes more cores than Spark gave its task
   * @param bytesLoaded counts the model's bytes once per executor JVM that loads it, or null
   */
  ModelSettings(ShippedFile model, ModelRuntime runtime, int threads, LongAccumulator bytesLoaded) {
    this.model = model;
    this.runtime = runtime;
    this.threads = threads;
    this.bytesLoaded = bytesLoaded;
  }

  public ShippedFile model() {
    return model;
  }

  public ModelRuntime runtime() {
    return runtime;
  }

  /** The threads a model gets in this task. */
  int threadsHere() {
    if (threads > 0) {
      return threads;
    }
    TaskContext t = TaskContext.get();
    return t == null ? 1 : Math.max(1, t.cpus());
  }

  /** The cache key of a model loaded with these settings, {@code what} naming the kind of loaded object. */
  String key(String what) {
    return what + ":" + model.sha256() + ":" + runtime + ":" + threadsHere();
  }

  /** This executor's runner for the model, loaded on first use. */
  ModelRunner runner() throws IOException {
    java.nio.file.Path local = model.localPath();
    return ExecutorModels.get(key("runner"), () -> {
      countLoad();
      return ModelRunner.open(local, runtime, threadsHere());
    });
  }

  /** Adds the model's size to the accumulator; called once per JVM, by the loader of the model. */
  void countLoad() {
    if (bytesLoaded != null) {
      bytesLoaded.add(model.size());
    }
  }
}
