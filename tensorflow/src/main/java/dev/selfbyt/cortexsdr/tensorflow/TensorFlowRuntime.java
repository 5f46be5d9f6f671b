package dev.selfbyt.cortexsdr.tensorflow;

/**
 * Whether TensorFlow's native library can run here. Compressing and decompressing a SavedModel
 * need no native code; running one (loading a {@code .cai} into TF Java, calibrating) needs the
 * {@code org.tensorflow:tensorflow-core-native:1.1.0} jar with classifier {@code linux-x86_64}
 * (160 MB) on the class path, an optional dependency of this module. {@link #require} turns its
 * absence into one clear message instead of a {@code NoClassDefFoundError} or {@code
 * UnsatisfiedLinkError} from deep inside TF Java.
 */
public final class TensorFlowRuntime {
  /** The artifact to add, as the message names it. */
  public static final String NATIVE_ARTIFACT = "org.tensorflow:tensorflow-core-native:1.1.0:linux-x86_64";

  private static volatile String problem;
  private static volatile boolean checked;

  private TensorFlowRuntime() {}

  /** Why TensorFlow cannot run here, or null when it can (loads the library on first call). */
  public static String problem() {
    if (!checked) {
      synchronized (TensorFlowRuntime.class) {
        if (!checked) {
          problem = check();
          checked = true;
        }
      }
    }
    return problem;
  }

  /** Whether TensorFlow's native library loads here. */
  public static boolean available() {
    return problem() == null;
  }

  /**
   * Throws {@link IllegalStateException} saying what to add when TensorFlow cannot run here.
   *
   * @param what what needed it ("loading a .cai into TensorFlow"), for the message
   */
  public static void require(String what) {
    String p = problem();
    if (p != null) {
      throw new IllegalStateException(what + " needs TensorFlow's native library, which " + p);
    }
  }

  private static String check() {
    String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (TensorFlowRuntime.class.getClassLoader().getResource(
        "org/tensorflow/internal/c_api/linux-x86_64/libjnitensorflow.so") == null
        && os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
      return "is not on the class path: add " + NATIVE_ARTIFACT + " (160 MB)";
    }
    try {
      org.tensorflow.TensorFlow.version();
      return null;
    } catch (LinkageError | RuntimeException e) {
      return "did not load on " + os + "/" + arch + " (" + e + "); TF Java 1.1.0 ships it for linux-x86_64 as "
          + NATIVE_ARTIFACT;
    }
  }
}
