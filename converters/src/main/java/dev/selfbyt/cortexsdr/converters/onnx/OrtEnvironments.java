package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnxruntime.OrtEnvironment;

/**
 * ONNX Runtime's environment, created safely. ONNX Runtime 1.29.0 loads and initialises its native
 * library with more than a default Java thread's 1 MB of stack when the JVM's command line is long:
 * {@code OrtEnvironment.getEnvironment()} then kills the process with a segmentation fault (no
 * Java exception, no hs_err file). Measured here: a plain {@code OrtEnvironment.getEnvironment()}
 * crashes with a 4.8 KB class path and not with 3.8 KB; 1.28.0 and older do not crash at 4.8 KB;
 * with {@code -Xss2m}, or on a thread with 2 MB of stack, it succeeds even with a 48 KB class
 * path. IDEs and build tools start programs with class paths that long.
 *
 * <p>So the first call creates the environment on a short-lived thread with {@link
 * #INIT_STACK_BYTES} of stack; the environment is a process-wide singleton, so every later call,
 * ours or the application's, just returns it. Every place in the project that needs an
 * environment asks here; an application that creates its own ONNX Runtime sessions before touching
 * CortexSDR can call {@link #get()} first, or start the JVM with {@code -Xss2m}.
 */
public final class OrtEnvironments {
  /** Stack of the thread that initialises ONNX Runtime: 4 MB, twice what 1.29.0 was seen to need. */
  public static final long INIT_STACK_BYTES = 4L << 20;

  private static volatile OrtEnvironment environment;

  private OrtEnvironments() {}

  /**
   * @return ONNX Runtime's process-wide environment, initialised on a thread with enough stack
   * @throws IllegalStateException when the native library cannot be loaded (its cause says why)
   */
  public static OrtEnvironment get() {
    OrtEnvironment e = environment;
    if (e != null) {
      return e;
    }
    synchronized (OrtEnvironments.class) {
      if (environment == null) {
        environment = initialise();
      }
      return environment;
    }
  }

  private static OrtEnvironment initialise() {
    OrtEnvironment[] made = new OrtEnvironment[1];
    Throwable[] failed = new Throwable[1];
    Thread t = new Thread(null, () -> {
      try {
        made[0] = OrtEnvironment.getEnvironment();
      } catch (Throwable x) { // NOPMD: handed to the caller's thread below
        failed[0] = x;
      }
    }, "cortexsdr-ort-init", INIT_STACK_BYTES);
    t.setDaemon(true);
    t.start();
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException ie) {
        interrupted = true; // the native initialisation cannot be abandoned half-way: wait for it
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (failed[0] instanceof Error err) {
      throw err;
    }
    if (failed[0] != null) {
      throw new IllegalStateException("cannot initialise ONNX Runtime: " + failed[0].getMessage(), failed[0]);
    }
    return made[0];
  }
}
