package dev.selfbyt.cortexsdr.pytorch;

import ai.djl.engine.Engine;

/**
 * Whether DJL's PyTorch engine can start in this JVM. Its native library (libtorch, 112 MB in
 * {@code ai.djl.pytorch:pytorch-native-cpu}) is the user's to provide: reading, compressing and
 * decompressing TorchScript need none of it, only running a model does ({@link CaiTorch#load},
 * {@link TorchFidelity}). When it is missing, {@link #require} says how to get it.
 */
public final class PyTorchNatives {
  /** DJL's name of the engine. */
  public static final String ENGINE = "PyTorch";

  private PyTorchNatives() {}

  /** True when the engine starts (its native library loads). */
  public static boolean available() {
    try {
      require("check");
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /**
   * The engine, or an {@link IllegalStateException} that names what needed it, why it did not start
   * and the fixes.
   *
   * @param what what needs it, for the message ("loading model.cai into PyTorch")
   */
  public static Engine require(String what) {
    if (!Engine.hasEngine(ENGINE)) {
      throw new IllegalStateException(what + " needs DJL's PyTorch engine (ai.djl.pytorch:pytorch-engine), which is "
          + "not on the classpath");
    }
    try {
      return Engine.getEngine(ENGINE);
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      throw new IllegalStateException(what + " needs PyTorch's native library, which did not load (" + e.getMessage()
          + "). Put ai.djl.pytorch:pytorch-native-cpu:2.7.1:linux-x86_64 (or your platform's) on the classpath, "
          + "point PYTORCH_LIBRARY_PATH at a libtorch 2.7.1, or let DJL download it (network access, no "
          + "-Dai.djl.offline=true). Compressing and decompressing TorchScript do not need it.", e);
    }
  }
}
