package dev.selfbyt.cortexsdr.it.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Replays saved fuzz findings ({@code <target>-<exception>-<hash>.cai|.onnx}, the mutated files
 * themselves) through the same entry points and the same expected-exception rule as the fuzz
 * targets ({@link FuzzHarness#readEverything}, {@link OnnxImportFuzzIT#readAll}, {@link
 * LoaderFuzzIT#ortSession}, {@link LoaderFuzzIT#djlEngine}), and prints how many of each
 * {@code <target>-<exception>} group are now accepted, refused with a documented exception, or
 * still a finding. Run it in one JVM with the fuzz limits:
 *
 * <pre>
 * java -Xmx512m -XX:MaxDirectMemorySize=512m -Dai.djl.offline=true \
 *     -cp integration-tests/target/test-classes:integration-tests/target/benchmarks.jar:&lt;jazzer-api jar&gt; \
 *     dev.selfbyt.cortexsdr.it.fuzz.FindingReplay [--per-group 30] [--timeout 20] folder...
 * </pre>
 *
 * <p>Files with the same name (same target, exception and content hash) in several folders count
 * once. Of each group at most {@code --per-group} files are replayed, the first ones by file name
 * (the name ends with the content's hash, so this is a fixed, content-chosen sample).
 */
public final class FindingReplay {
  private FindingReplay() {}

  private static final Pattern NAME = Pattern.compile("([A-Za-z]+)-([A-Za-z]+)-([0-9a-f]+)\\.(cai|onnx|bin)");

  /** Outcome counts of one {@code <target>-<exception>} group. */
  private static final class Group {
    final String target;
    final String oldException;
    final List<Path> files = new ArrayList<>();
    int replayed;
    int accepted;
    final Map<String, Integer> documented = new TreeMap<>();
    final Map<String, Integer> findings = new TreeMap<>();
    final Map<String, Path> findingExample = new TreeMap<>();

    Group(String target, String oldException) {
      this.target = target;
      this.oldException = oldException;
    }

    int documentedCount() {
      return documented.values().stream().mapToInt(Integer::intValue).sum();
    }

    int findingCount() {
      return findings.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  public static void main(String[] args) throws Exception {
    int perGroup = 30;
    long timeoutSeconds = 20;
    boolean verbose = false;
    List<Path> folders = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--per-group" -> perGroup = Integer.parseInt(args[++i]);
        case "--timeout" -> timeoutSeconds = Long.parseLong(args[++i]);
        case "--verbose" -> verbose = true;
        default -> folders.add(Path.of(args[i]));
      }
    }
    Map<String, Group> groups = collect(folders);
    ExecutorService pool = newPool();
    long start = System.nanoTime();
    for (Group g : groups.values()) {
      List<Path> sample = g.files.stream().sorted().limit(perGroup).toList();
      for (Path f : sample) {
        String outcome;
        Future<String> run = pool.submit(() -> replay(g.target, f));
        try {
          outcome = run.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
          run.cancel(true);
          pool.shutdownNow(); // the stuck thread is left behind; the next file gets a fresh one
          pool = newPool();
          outcome = "F:timeout over " + timeoutSeconds + " s";
        } catch (java.util.concurrent.ExecutionException e) {
          outcome = "F:" + describe(e.getCause());
        }
        g.replayed++;
        if (verbose) {
          System.err.println(f.getFileName() + "\t" + outcome + "\t" + lastMessage.get());
        }
        if (outcome.equals("A")) {
          g.accepted++;
        } else if (outcome.startsWith("D:")) {
          g.documented.merge(outcome.substring(2), 1, Integer::sum);
        } else {
          String key = outcome.substring(2);
          g.findings.merge(key, 1, Integer::sum);
          g.findingExample.putIfAbsent(key, f);
        }
      }
      System.err.printf("replayed %s-%s: %d files%n", g.target, g.oldException, g.replayed);
    }
    pool.shutdownNow();
    print(groups, perGroup, (System.nanoTime() - start) / 1e9);
    System.out.flush();
    System.exit(0); // a timed-out input may still hold a thread
  }

  private static ExecutorService newPool() {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "replay");
      t.setDaemon(true);
      return t;
    });
  }

  private static Map<String, Group> collect(List<Path> folders) throws IOException {
    Map<String, Path> byName = new TreeMap<>();
    for (Path folder : folders) {
      try (Stream<Path> s = Files.list(folder)) {
        s.forEach(p -> byName.putIfAbsent(p.getFileName().toString(), p));
      }
    }
    Map<String, Group> groups = new TreeMap<>();
    for (Map.Entry<String, Path> e : byName.entrySet()) {
      Matcher m = NAME.matcher(e.getKey());
      if (!m.matches()) {
        continue;
      }
      groups.computeIfAbsent(m.group(1) + "-" + m.group(2), k -> new Group(m.group(1), m.group(2)))
          .files.add(e.getValue());
    }
    return groups;
  }

  private static final java.util.concurrent.atomic.AtomicReference<String> lastMessage =
      new java.util.concurrent.atomic.AtomicReference<>("");

  /** "A" accepted, "D:&lt;exception&gt;" documented exception, or throws (a finding). */
  private static String replay(String target, Path finding) throws Exception {
    byte[] bytes = Files.readAllBytes(finding);
    FuzzHarness.takeExpected();
    switch (target) {
      case "mutatedFields", "repairedBytes" -> FuzzHarness.readEverything(FuzzHarness.write("replay.cai", bytes));
      case "mutatedOnnx" -> OnnxImportFuzzIT.readAll(OnnxImportFuzzIT.place(bytes));
      case "ortSession" -> LoaderFuzzIT.ortSession(FuzzHarness.write("replay-ort.cai", bytes));
      case "djlEngine" -> LoaderFuzzIT.djlEngine(FuzzHarness.write("replay-djl.cai", bytes));
      default -> throw new IllegalArgumentException("unknown fuzz target " + target + " (" + finding + ")");
    }
    Exception documented = FuzzHarness.takeExpected();
    lastMessage.set(documented == null ? "" : String.valueOf(documented.getMessage()));
    if (documented == null) {
      return "A";
    }
    String name = documented.getClass().getSimpleName();
    return "D:" + (documented.getCause() == null ? name : name + "(" + documented.getCause().getClass().getSimpleName() + ")");
  }

  /** The exception class, its message's start and the first frames in the project's code. */
  private static String describe(Throwable t) {
    StringBuilder b = new StringBuilder(t.getClass().getSimpleName());
    String msg = String.valueOf(t.getMessage()).replaceAll("/\\S*/", "");
    b.append(": ").append(msg.length() > 100 ? msg.substring(0, 100) + "..." : msg);
    int shown = 0;
    for (StackTraceElement el : t.getStackTrace()) {
      if (shown == 0 || el.getClassName().startsWith("dev.selfbyt") && shown < 3) {
        if (el.getClassName().startsWith("dev.selfbyt.cortexsdr.it.")) {
          break;
        }
        b.append(" | at ").append(el.getClassName().replaceAll(".*\\.", "")).append('.').append(el.getMethodName())
            .append(':').append(el.getLineNumber());
        shown++;
      }
    }
    if (t.getCause() != null && t.getCause() != t) {
      b.append(" | cause ").append(t.getCause().getClass().getSimpleName()).append(": ")
          .append(String.valueOf(t.getCause().getMessage()).replaceAll("/\\S*/", ""));
    }
    return b.toString();
  }

  private static void print(Map<String, Group> groups, int perGroup, double seconds) {
    System.out.printf("%n| target | old exception | files | replayed | now accepted | documented exception | still a finding |%n");
    System.out.printf("|---|---|---:|---:|---:|---|---:|%n");
    int files = 0;
    int replayed = 0;
    int accepted = 0;
    int documented = 0;
    int findings = 0;
    for (Group g : groups.values()) {
      System.out.printf("| `%s` | `%s` | %,d | %d | %d | %d %s | %d |%n", g.target, g.oldException, g.files.size(),
          g.replayed, g.accepted, g.documentedCount(), g.documented.isEmpty() ? "" : g.documented.toString(),
          g.findingCount());
      files += g.files.size();
      replayed += g.replayed;
      accepted += g.accepted;
      documented += g.documentedCount();
      findings += g.findingCount();
    }
    System.out.printf("| total | | %,d | %d | %d | %d | %d |%n", files, replayed, accepted, documented, findings);
    System.out.printf("%n%d groups, at most %d files each, replayed in %.0f s%n", groups.size(), perGroup, seconds);
    for (Group g : groups.values()) {
      for (Map.Entry<String, Integer> e : g.findings.entrySet()) {
        System.out.printf("%nSTILL A FINDING %s-%s x%d: %s%n  e.g. %s%n", g.target, g.oldException, e.getValue(),
            e.getKey(), g.findingExample.get(e.getKey()));
      }
    }
  }
}
