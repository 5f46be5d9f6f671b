package dev.selfbyt.cortexsdr.it.fuzz;

import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;

/**
 * What every fuzz target shares: a scratch file per thread, the rule for expected failures, the
 * reader's full exercise (open, every tensor read stored and decoded, verify) and a hang watchdog.
 *
 * <p>Expected outcomes are success or one of the documented exception types of the entry point
 * ({@code CaiException} for the reader, plus {@code OrtException} for {@code CaiOrt} and {@code
 * MalformedModelException} for DJL). Anything else propagates, and Jazzer reports it as a finding:
 * a {@code RuntimeException}, an {@code Error} such as {@code OutOfMemoryError} (the fuzz JVM runs
 * with {@code -Xmx512m}, so an allocation the size limits should have refused surfaces), or a
 * failed consistency check. An input that runs longer than {@code fuzz.hangSeconds} (10 s by
 * default) is saved under {@code target/fuzz-findings} and the JVM halts with status 70.
 */
final class FuzzHarness {
  private FuzzHarness() {}

  private static final Path DIR;

  static {
    try {
      // tmpfs when there is one: a file is written per input
      Path shm = Path.of("/dev/shm");
      DIR = Files.isDirectory(shm) && Files.isWritable(shm)
          ? Files.createTempDirectory(shm, "cai-fuzz")
          : Files.createTempDirectory("cai-fuzz");
      DIR.toFile().deleteOnExit();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code bytes} to this thread's scratch file named {@code name} and returns it. */
  static Path write(String name, byte[] bytes) {
    try {
      Path p = DIR.resolve(Thread.currentThread().getId() + "-" + name);
      Files.write(p, bytes);
      p.toFile().deleteOnExit();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Opens {@code file} and reads everything a user can ask for; returns normally on success or
   * on a {@link CaiException}, throws anything else.
   */
  static void readEverything(Path file) throws IOException {
    CaiReader r;
    try {
      r = CaiReader.open(file);
    } catch (CaiException expected) {
      expected(expected);
      return;
    }
    try (r) {
      r.manifest();
      r.graph();
      r.version();
      for (CaiEntry e : r.entries()) {
        e.info().toString();
        try {
          r.readStored(e.name());
          TensorData t = r.read(e.name());
          long bytes = t.bytes().remaining();
          check(bytes == t.info().byteSize(), file, e.name(), "decoded " + bytes + " bytes, shape says "
              + t.info().byteSize());
          check(java.util.Arrays.equals(t.info().shape(), e.info().shape()), file, e.name(), "shape changed");
        } catch (CaiException expected) {
          // one tensor's damage does not stop the others from being read
          expected(expected);
        }
      }
      try {
        r.verify();
      } catch (CaiException expected) {
        // named damage is the expected outcome
        expected(expected);
      }
    }
  }

  /**
   * Runs one input of {@code target}; anything but success or an expected exception is saved as
   * {@code target/fuzz-findings/<target>-<exception>-<hash>.<ext>} (the file itself, not the
   * fuzzer's program, so it reproduces without the fuzzer) and rethrown with that path.
   */
  static void run(String target, byte[] file, String ext, Body body) throws Exception {
    takeExpected();
    arm(target, file);
    try {
      body.run();
    } catch (Exception | Error t) {
      Path saved = save(target + "-" + t.getClass().getSimpleName(), ext, file);
      throw new AssertionError(target + ": " + t + " on the input saved as " + saved, t);
    } finally {
      disarm();
    }
  }

  private static final ThreadLocal<Exception> EXPECTED = new ThreadLocal<>();

  /**
   * Notes an expected (documented) exception of the entry point, the first one per input, so that
   * a replay ({@link FindingReplay}) can tell "refused with a documented exception" from
   * "accepted"; the fuzz targets ignore it.
   */
  static void expected(Exception e) {
    if (EXPECTED.get() == null) {
      EXPECTED.set(e);
    }
  }

  /** The first expected exception noted on this thread since the last call, or null; clears it. */
  static Exception takeExpected() {
    Exception e = EXPECTED.get();
    EXPECTED.remove();
    return e;
  }

  /** One input's work; throws only what is not expected. */
  interface Body {
    void run() throws Exception;
  }

  static Path save(String prefix, String ext, byte[] file) {
    try {
      Path dir = Files.createDirectories(Path.of("target", "fuzz-findings"));
      String id = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1").digest(file), 0, 6);
      Path f = dir.resolve(prefix + "-" + id + "." + ext).toAbsolutePath();
      Files.write(f, file);
      return f;
    } catch (Exception e) {
      return Path.of("(not saved: " + e + ")");
    }
  }

  static void check(boolean ok, Path file, String tensor, String what) {
    if (!ok) {
      throw new AssertionError(file + ": tensor '" + tensor + "': " + what);
    }
  }

  // ---- hang watchdog ------------------------------------------------------------------------

  private static final long HANG_NANOS = Long.getLong("fuzz.hangSeconds", 10) * 1_000_000_000L;
  private static volatile long armedAt;
  private static volatile byte[] armedInput;
  private static volatile String armedTarget;
  private static volatile Thread armedThread;

  static {
    Thread t = new Thread(FuzzHarness::watch, "fuzz-hang-watchdog");
    t.setDaemon(true);
    t.start();
  }

  /** Starts the clock for one input (kept to be saved if it hangs). */
  static void arm(String target, byte[] input) {
    armedInput = input;
    armedTarget = target;
    armedThread = Thread.currentThread();
    armedAt = System.nanoTime();
  }

  static void disarm() {
    armedAt = 0;
  }

  private static void watch() {
    while (true) {
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        return;
      }
      long at = armedAt;
      if (at != 0 && System.nanoTime() - at > HANG_NANOS && armedAt == at) {
        Path f = save(armedTarget + "-hang", "bin", armedInput);
        System.err.println("FUZZ HANG: " + armedTarget + " ran over " + HANG_NANOS / 1_000_000_000L
            + " s on the input saved as " + f);
        Thread th = armedThread;
        for (Map.Entry<Thread, StackTraceElement[]> s : Thread.getAllStackTraces().entrySet()) {
          if (s.getKey() == th) {
            for (StackTraceElement el : s.getValue()) {
              System.err.println("\tat " + el);
            }
          }
        }
        System.err.flush();
        Runtime.getRuntime().halt(70);
      }
    }
  }
}
