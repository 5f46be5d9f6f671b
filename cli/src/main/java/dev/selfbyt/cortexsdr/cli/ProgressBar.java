package dev.selfbyt.cortexsdr.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, redrawn at most ten times a second, and only when stderr is
 * a terminal (never in scripts, CI logs or under {@code --json}).
 */
final class ProgressBar implements AutoCloseable {
  private final PrintWriter err;
  private final boolean enabled;
  private final String label;
  private long lastDraw;
  private boolean drawn;

  ProgressBar(PrintWriter err, String label, boolean quiet) {
    this.err = err;
    this.label = label;
    this.enabled = !quiet && System.console() != null;
  }

  /** Follows a reader: one step per distinct tensor read, out of all its tensors. */
  private volatile String last;

  /** The tensor read last (null before the first), to name it when what follows its read fails. */
  String last() {
    return last;
  }

  void follow(dev.selfbyt.cortexsdr.core.format.CaiReader cai) {
    java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    int total = cai.entries().size();
    cai.onTensorRead(e -> {
      last = e.name();
      seen.add(e.name());
      update(seen.size(), total, e.name());
    });
  }

  synchronized void update(long done, long total, String detail) {
    if (!enabled || total <= 0) {
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

  @Override
  public void close() {
    if (drawn) {
      err.print("\r" + " ".repeat(120) + "\r");
      err.flush();
    }
  }
}
