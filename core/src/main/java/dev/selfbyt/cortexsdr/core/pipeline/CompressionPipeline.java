package dev.selfbyt.cortexsdr.core.pipeline;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.TensorStats;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.format.EncodedTensor;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Compresses a {@link TensorSource} into a {@code .cai} file on N threads. Each tensor is read
 * by the worker that encodes it, and results are written in source order, so the output is
 * byte-identical for every thread count. In flight at once: {@link
 * CompressionOptions#windowSize()} tensors, and beyond that, behind a tensor that is still being
 * encoded, followers that together hold no more bytes than it does when it is stored lossy (so
 * the other threads keep working past one large tensor, a model's embedding table say, while
 * memory stays within twice what that tensor alone needs): memory is bounded by the window, not
 * the model. Make one per
 * compression with {@code new CompressionPipeline(options)}.
 */
public final class CompressionPipeline {
  private final CompressionOptions options;
  private final CompressionPolicy policy;
  private final TensorEncoder encoder;
  private Consumer<Progress> progress = p -> {};

  /** Progress after each tensor written: tensors done of total, input bytes done of total. */
  public record Progress(int tensorsDone, int tensorsTotal, long bytesDone, long bytesTotal, String tensor) {}

  public CompressionPipeline(CompressionOptions options) {
    this.options = options;
    this.policy = new CompressionPolicy(options);
    this.encoder = new TensorEncoder(options.zstdLevel() == 0 ? null : new ZstdStage(options.zstdLevel()));
  }

  /** Called on the writing thread after each tensor; for progress bars. */
  public CompressionPipeline onProgress(Consumer<Progress> listener) {
    this.progress = listener;
    return this;
  }

  private record Result(EncodedTensor encoded, TensorStats stats) {}

  /**
   * Runs the compression. On any failure the target is left untouched (no partial file).
   *
   * @param manifest the manifest map to store (see {@link dev.selfbyt.cortexsdr.core.CortexSdr})
   * @param sourceName how to name the source in error messages (a path, usually)
   * @throws CaiException naming the source or target, the tensor, and the cause
   */
  public CompressionStats run(TensorSource source, String sourceName, Path target, Map<String, Object> manifest)
      throws IOException {
    long start = System.nanoTime();
    List<TensorInfo> tensors = source.tensors();
    byte[] graph = source.graph();
    long totalBytes = graph.length;
    for (TensorInfo t : tensors) {
      totalBytes += t.byteSize();
    }
    ZstdStage segmentStage = options.zstdLevel() == 0 ? null : new ZstdStage(options.zstdLevel());
    List<TensorStats> stats = new ArrayList<>(tensors.size());
    ExecutorService pool = Executors.newFixedThreadPool(options.threads(), daemonThreads());
    Deque<Future<Result>> window = new ArrayDeque<>();
    Deque<Long> allowance = new ArrayDeque<>(); // followerAllowance of each tensor in the window
    long followerBytes = 0; // source bytes of all but the oldest
    long doneBytes = graph.length;
    try (CaiWriter writer = CaiWriter.create(target, manifest, graph, segmentStage)) {
      int next = 0;
      int written = 0;
      while (written < tensors.size()) {
        while (next < tensors.size() && (window.size() < options.windowSize()
            || followerBytes + tensors.get(next).byteSize() <= allowance.peekFirst())) {
          TensorInfo info = tensors.get(next++);
          if (!window.isEmpty()) {
            followerBytes += info.byteSize();
          }
          window.add(pool.submit(() -> encodeOne(source, sourceName, info)));
          allowance.add(followerAllowance(info));
        }
        Result r = await(window.poll(), sourceName);
        allowance.poll();
        if (!window.isEmpty()) {
          followerBytes -= tensors.get(written + 1).byteSize();
        }
        writer.write(r.encoded());
        stats.add(r.stats());
        written++;
        doneBytes += r.encoded().info().byteSize();
        progress.accept(new Progress(written, tensors.size(), doneBytes, totalBytes, r.stats().name()));
      }
      writer.finish();
      long out = java.nio.file.Files.size(target);
      return new CompressionStats(target, totalBytes, out, (System.nanoTime() - start) / 1_000_000, stats);
    } finally {
      for (Future<Result> f : window) {
        f.cancel(true);
      }
      pool.shutdownNow();
      if (segmentStage != null) {
        segmentStage.close();
      }
      encoder.close();
    }
  }

  /**
   * Bytes of followers a tensor lets into the window while it is the oldest one in flight: its own
   * size when it is stored lossy, none when lossless. Followers' results wait in memory until it
   * is written; behind a lossless tensor they are as large as their inputs, and letting them in
   * cost a lossless run of MiniLM more CPU and time than the parallel work gained.
   */
  private long followerAllowance(TensorInfo info) {
    return policy.plan(info).kind() == TensorPlan.Kind.LOSSLESS ? 0 : info.byteSize();
  }

  private Result encodeOne(TensorSource source, String sourceName, TensorInfo info) throws CaiException {
    TensorData data;
    try {
      data = source.read(info);
    } catch (IOException | RuntimeException e) {
      if (e instanceof CaiException c) {
        throw c;
      }
      throw new CaiException(sourceName, info.name(), "cannot read: " + e.getMessage(), e);
    }
    if (!data.info().equals(info)) {
      throw new CaiException(sourceName, info.name(), "source returned " + data.info() + " for " + info);
    }
    TensorPlan plan = policy.plan(info);
    EncodedTensor e;
    try {
      e = encoder.encode(data, plan);
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException ex) {
      throw new CaiException(sourceName, info.name(), "cannot encode: " + ex.getMessage(), ex);
    }
    TensorStats s = new TensorStats(info.name(), info.dtype().name().toLowerCase(java.util.Locale.ROOT),
        info.shape(), e.codec().describe() + (e.zstd() ? " +zstd" : ""), plan.reason(), info.byteSize(),
        e.storedLength(), info.numel() == 0 ? 0 : e.storedLength() * 8.0 / info.numel(), e.nmse(),
        e.maxAbsError());
    return new Result(e, s);
  }

  private static Result await(Future<Result> f, String sourceName) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CaiException(sourceName, null, "interrupted");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      if (c instanceof OutOfMemoryError oom) {
        throw new EncodingOutOfMemoryException(sourceName, oom);
      }
      throw new CaiException(sourceName, null, "encoding failed: " + c, c);
    }
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "cortexsdr-encode-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
