package dev.selfbyt.cortexsdr.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * Progress on stderr, by stage ("calibrating", "compressing", ...). On a terminal, a one-line bar
 * redrawn at most ten times a second (not under {@code --json}). Otherwise (scripts, CI logs,
 * {@code 2>log}) plain lines, at most one every 2 s: a stage that
 * ends within 2 s prints nothing, a longer one prints where it is every 2 s and, at its end, how
 * long it took; so a long calibration is never minutes of silence and a quick command stays
 * silent (its failure stays one line).
 */
final class ProgressBar implements AutoCloseable {
  /** At most one progress line this often: 2 s (tests shorten it to see lines on a quick run). */
  static volatile long lineIntervalNanos = 2_000_000_000L;

  private final PrintWriter err;
  private final boolean bar;
  private final boolean lines;
  private final ScheduledExecutorService ticker;
  private String label;
  private long stageStart = System.nanoTime();
  private long lastLine;
  private boolean stagePrinted;
  private long done;
  private long total;
  private String detail = "";
  private String unit = "";
  private boolean completed;
  private long lastDraw;
  private boolean drawn;

  /** The tensor read last (null before the first), to name it when what follows its read fails. */
  private volatile String last;

  ProgressBar(PrintWriter err, String label, boolean json, boolean terminal) {
    this.err = err;
    this.label = label;
    this.bar = terminal && !json;
    this.lines = !terminal;
    if (lines) {
      ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cortexsdr-progress");
        t.setDaemon(true);
        return t;
      });
      long period = Math.max(10, Math.min(250, lineIntervalNanos / 8_000_000));
      ticker.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.MILLISECONDS);
    } else {
      ticker = null;
    }
  }

  /** A bar for a command: on a terminal or as lines, as the root command found stderr. */
  static ProgressBar open(CommandLine.Model.CommandSpec spec, String label, boolean json) {
    return new ProgressBar(spec.commandLine().getErr(), label, json, CortexSdrCommand.root(spec).errIsTerminal);
  }

  String last() {
    return last;
  }

  /** Follows a reader: one step per distinct tensor read, out of all its tensors. */
  void follow(dev.selfbyt.cortexsdr.core.format.CaiReader cai) {
    java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    int total = cai.entries().size();
    unit = " tensors";
    cai.onTensorRead(e -> {
      last = e.name();
      seen.add(e.name());
      update(seen.size(), total, e.name());
    });
  }

  /** Starts the next stage; the one before ends (with a closing line if it printed any). */
  synchronized void stage(String name) {
    endStage();
    label = name;
    stageStart = System.nanoTime();
    done = 0;
    total = 0;
    detail = "";
    unit = "";
  }

  /** What {@link #update}'s counts count ("bytes", "tensors"), for the lines. */
  synchronized ProgressBar units(String what) {
    unit = " " + what;
    return this;
  }

  /** The command succeeded: closing ends the last stage with its "done in" line. */
  synchronized void done() {
    completed = true;
  }

  /** What the current stage is doing now, when it cannot count its steps. */
  synchronized void note(String what) {
    detail = what;
  }

  synchronized void update(long done, long total, String detail) {
    this.done = done;
    this.total = total;
    this.detail = detail;
    if (!bar || total <= 0) {
      return;
    }
    long now = System.nanoTime();
    if (done < total && now - lastDraw < 100_000_000L) {
      return;
    }
    lastDraw = now;
    int width = 30;
    int filled = (int) (width * done / total);
    String d = detail.length() > 40 ? "…" + detail.substring(detail.length() - 39) : detail;
    err.printf(Locale.ROOT, "\r%s [%s%s] %3d%% %-40s", label, "#".repeat(filled), " ".repeat(width - filled),
        100 * done / total, d);
    err.flush();
    drawn = true;
  }

  private synchronized void tick() {
    long now = System.nanoTime();
    long interval = lineIntervalNanos;
    if (now - stageStart < interval || (stagePrinted && now - lastLine < interval)) {
      return;
    }
    String where = total > 0 ? String.format(Locale.ROOT, "%d%% (%,d of %,d%s)", 100 * done / total, done, total, unit) : "";
    String d = detail.length() > 100 ? "…" + detail.substring(detail.length() - 99) : detail;
    err.println(String.join(", ", java.util.stream.Stream.of(label + ": " + seconds(now), where, d)
        .filter(x -> !x.isEmpty()).toList()));
    err.flush();
    lastLine = now;
    stagePrinted = true;
  }

  private String seconds(long now) {
    return String.format(Locale.ROOT, "%.1f s", (now - stageStart) / 1e9);
  }

  private void endStage() {
    if (stagePrinted) {
      err.println(label + ": done in " + seconds(System.nanoTime()));
      err.flush();
    }
    stagePrinted = false;
  }

  @Override
  public void close() {
    if (ticker != null) {
      ticker.shutdownNow();
      try {
        ticker.awaitTermination(1, TimeUnit.SECONDS); // no line after the command's own output
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      if (completed) {
        endStage(); // after a failure the error line is the last word
      }
      if (drawn) {
        err.print("\r" + " ".repeat(120) + "\r");
        err.flush();
      }
    }
  }
}
