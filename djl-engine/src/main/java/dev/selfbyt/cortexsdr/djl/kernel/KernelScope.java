package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.function.Supplier;

/**
 * The kernels and the thread pool a model's calls use: a model makes one from its settings and
 * runs each call inside it ({@link #call}), so two models in one JVM may use different thread
 * counts or kernels; {@link Kernels#get()} and {@link KernelThreads#forEach} read the scope of the
 * calling thread (workers take their caller's). Outside any scope the JVM-wide defaults apply
 * ({@link #defaultScope()}).
 */
public record KernelScope(Kernels kernels, KernelThreads threads) {
  private static final ThreadLocal<KernelScope> CURRENT = new ThreadLocal<>();

  private static final class Default {
    // made on first use: the defaults are the engine's settings read from system properties
    static final KernelScope SCOPE = new KernelScope(Kernels.jvmDefault(), KernelThreads.pool(
        dev.selfbyt.cortexsdr.djl.EngineSettings.defaults().numThreads(),
        dev.selfbyt.cortexsdr.djl.EngineSettings.defaults().spinMicros()));
  }

  public KernelScope {
    if (kernels == null || threads == null) {
      throw new IllegalArgumentException("a kernel scope needs kernels and threads");
    }
  }

  /** The scope outside any model: the kernels picked for this JVM and the default pool. */
  public static KernelScope defaultScope() {
    return Default.SCOPE;
  }

  /** The calling thread's scope, or null outside any. */
  static KernelScope current() {
    return CURRENT.get();
  }

  static KernelScope currentOrDefault() {
    KernelScope s = CURRENT.get();
    return s != null ? s : Default.SCOPE;
  }

  /** Runs {@code body} in this scope on the calling thread (nested scopes restore the outer one). */
  public <T> T call(Supplier<T> body) {
    KernelScope prev = CURRENT.get();
    CURRENT.set(this);
    try {
      return body.get();
    } finally {
      if (prev == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(prev);
      }
    }
  }

  static void runIn(KernelScope scope, Runnable body) {
    scope.call(() -> {
      body.run();
      return null;
    });
  }
}
