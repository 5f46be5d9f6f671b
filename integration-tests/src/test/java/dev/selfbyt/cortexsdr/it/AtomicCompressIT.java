package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.WriterTempFiles;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.it.reliability.CompressModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 during {@code compress} of a real model (all-MiniLM-L6-v2, int8) in a separate JVM, at
 * seeded random moments from JVM start to past the end of a full run: the target holds either
 * nothing or a complete file that opens and verifies, never a partial {@code .cai}; a complete
 * file that was there before survives; the killed runs' temporary files are recognisable
 * ({@code .model.cai.<random>.tmp}) and never pile up (each run removes the unlocked ones of its
 * target before it starts), and a live writer's file is not removed by another process.
 */
class AtomicCompressIT {
  private static final int TRIALS = 8;

  @TempDir Path work;

  @Test
  void killNineDuringCompressLeavesNothingOrACompleteFile() throws Exception {
    Path onnx = RealModel.MINILM.onnx(work);
    Path out = Files.createDirectories(work.resolve("out"));
    Path target = out.resolve("model.cai");

    long start = System.nanoTime();
    assertEquals(0, compress(onnx, target).waitFor(), "a full run completes");
    long fullMs = (System.nanoTime() - start) / 1_000_000;
    verify(target);
    System.out.printf("full compress run (JVM start included): %d ms%n", fullMs);

    SplittableRandom random = new SplittableRandom(20261203);
    int killedMidWrite = 0;
    List<String> log = new ArrayList<>();
    for (int trial = 0; trial < TRIALS; trial++) {
      if (trial % 2 == 0) {
        Files.deleteIfExists(target); // half the trials start from nothing, half overwrite a complete file
      }
      boolean existed = Files.exists(target);
      long killAfter = random.nextLong(fullMs * 11 / 10);
      Process p = compress(onnx, target);
      if (trial % 2 == 1) {
        // odd trials: the random delay counts from when the writer's temporary file appears, so that
        // kills land inside the write whatever the machine's speed (on a quiet machine the write is a
        // short part of a run that is mostly JVM start, and purely random kills could all miss it)
        try {
          awaitTempFile(out, p);
        } catch (AssertionError finishedFirst) {
          // the run ended before its file could be seen: counted below as finished first
        }
        killAfter = random.nextLong(Math.max(1, fullMs / 4));
      }
      boolean exited = p.waitFor(killAfter, TimeUnit.MILLISECONDS);
      if (!exited) {
        p.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs
        p.waitFor();
      }
      List<Path> temps = tempFiles(out);
      if (!exited && !temps.isEmpty()) {
        killedMidWrite++;
      }
      log.add(String.format("trial %d: kill after %d ms, %s, target %s, %d temporary file(s)", trial, killAfter,
          exited ? "finished first" : "killed", Files.exists(target) ? "present" : "absent", temps.size()));
      if (existed) {
        assertTrue(Files.exists(target), "a complete file that was there survives the kill (trial " + trial + ")");
      }
      if (Files.exists(target)) {
        verify(target);
      }
      assertTrue(temps.size() <= 1, "each run removes the leftovers of the runs before it: " + temps);
      for (Path t : temps) {
        assertTrue(t.getFileName().toString().matches("\\.model\\.cai\\..+\\.tmp"), "recognisable: " + t);
      }
    }
    log.forEach(System.out::println);
    assertTrue(killedMidWrite >= 2, "at least two kills landed while the file was being written: " + log);

    // a live writer in another process keeps its file; once it is done, its leftovers are gone
    Process live = compress(onnx, target);
    Path liveTemp = awaitTempFile(out, live);
    Thread.sleep(200); // past the microseconds between creating the file and locking it
    WriterTempFiles.removeStale(target);
    assertTrue(Files.exists(liveTemp), "another process's temporary file is locked, so left alone");
    assertEquals(0, live.waitFor(), "the live writer finishes");
    verify(target);
    assertEquals(List.of(), tempFiles(out), "the completed run removed the killed runs' temporary files");
  }

  private Process compress(Path onnx, Path target) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), CompressModel.class.getName(),
        onnx.toString(), target.toString(), "int8")
        .redirectErrorStream(true)
        .redirectOutput(work.resolve("compress.log").toFile())
        .start();
  }

  private static Path awaitTempFile(Path dir, Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    List<Path> before = tempFiles(dir);
    while (System.nanoTime() < deadline && p.isAlive()) {
      for (Path t : tempFiles(dir)) {
        if (!before.contains(t)) {
          return t;
        }
      }
      Thread.sleep(5);
    }
    throw new AssertionError("the writer made no temporary file");
  }

  private static void verify(Path cai) throws IOException {
    try (CaiReader r = CaiReader.open(cai)) {
      r.verify();
      assertTrue(r.entries().size() > 50, "all of MiniLM's tensors: " + r.entries().size());
    }
  }

  private static List<Path> tempFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).sorted().toList();
    }
  }
}
