package dev.selfbyt.cortexsdr.onnxops;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The native custom-operator library ({@code libcortexsdr_ops.so}, domain {@value #DOMAIN}) for
 * ONNX Runtime. Register it on the options of any session whose model uses {@code SdrMatMul}:
 *
 * <pre>{@code
 * try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
 *   SdrOps.register(o);
 *   try (OrtSession s = env.createSession("model-with-sdrmatmul.onnx", o)) { ... }
 * }
 * }</pre>
 *
 * The library is extracted from this jar ({@code native/linux-x86_64/} or {@code
 * native/linux-aarch64/}) to a temporary file once per process and pinned with {@link
 * System#load}, so that closing a {@code SessionOptions} (which unloads the libraries it
 * registered) never unloads it under a live session. It needs ONNX Runtime 1.17 or newer and says
 * so at registration otherwise.
 */
public final class SdrOps {
  /** The operator domain. */
  public static final String DOMAIN = "ai.cortexsdr";

  /** Session config entry forcing a code path: {@code auto}, {@code avx512}, {@code avx2}, {@code scalar}. */
  public static final String ISA_CONFIG = "cortexsdr.ops.isa";

  private static Path library;

  private SdrOps() {}

  /** Registers the operators on {@code options} (loading the library on first use). */
  public static void register(OrtSession.SessionOptions options) throws OrtException {
    options.registerCustomOpLibrary(libraryPath().toString());
  }

  /** The extracted, loaded library for this platform. */
  public static synchronized Path libraryPath() {
    if (library == null) {
      String resource = "/native/" + platform() + "/libcortexsdr_ops.so";
      try (InputStream in = SdrOps.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new UnsupportedOperationException("no CortexSDR native operators for " + platform()
              + " in this jar (" + resource + " is missing): build onnx-ops on that platform or with its cross compiler");
        }
        Path tmp = Files.createTempFile("libcortexsdr_ops", ".so");
        tmp.toFile().deleteOnExit();
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        System.load(tmp.toAbsolutePath().toString());
        library = tmp.toAbsolutePath();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot extract " + resource + " to a temporary file", e);
      }
    }
    return library;
  }

  /** {@code linux-x86_64} or {@code linux-aarch64}. */
  static String platform() {
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    String a = switch (arch) {
      case "amd64", "x86_64" -> "x86_64";
      case "aarch64", "arm64" -> "aarch64";
      default -> arch;
    };
    return (os.contains("linux") ? "linux" : os.replace(' ', '_')) + "-" + a;
  }
}
