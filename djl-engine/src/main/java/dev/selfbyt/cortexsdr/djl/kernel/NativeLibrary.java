package dev.selfbyt.cortexsdr.djl.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libcortexsdr_kernels.so} from this jar ({@code native/linux-x86_64/} or {@code
 * native/linux-aarch64/}): extracted once per process to a temporary file and {@link System#load}
 * -ed, as onnx-ops loads its operator library. {@link #load()} never throws: it returns null and
 * keeps the reason ({@link #failure()}) when the library is missing for this platform or does not
 * load, so the engine falls back to Java kernels.
 */
final class NativeLibrary {
  static final String NAME = "libcortexsdr_kernels.so";
  private static boolean tried;
  private static String failure;
  private static Path loaded;

  private NativeLibrary() {}

  /** The loaded library's path, or null (see {@link #failure()}). */
  static synchronized Path load() {
    if (tried) {
      return loaded;
    }
    tried = true;
    String resource = "/native/" + platform() + "/" + NAME;
    try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
      if (in == null) {
        failure = "no " + resource + " in this jar (no native kernels built for " + platform() + ")";
        return null;
      }
      Path tmp = Files.createTempFile("libcortexsdr_kernels", ".so");
      tmp.toFile().deleteOnExit();
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      System.load(tmp.toAbsolutePath().toString());
      loaded = tmp.toAbsolutePath();
    } catch (IOException | LinkageError | SecurityException e) {
      failure = resource + " did not load: " + e;
    }
    return loaded;
  }

  /** Why {@link #load()} returned null; null when it did not. */
  static synchronized String failure() {
    return failure;
  }

  /** {@code linux-x86_64} or {@code linux-aarch64} (the jar's folder names). */
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
