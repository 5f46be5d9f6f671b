package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The threads that split large products: one fork-join pool of {@code
 * dev.selfbyt.cortexsdr.num_threads} workers (default: available processors), shared by every
 * model. Small products run on the caller's thread.
 */
public final class KernelThreads {
  /** Below this many multiply-adds a product runs on one thread. */
  static final long PARALLEL_MIN_WORK = 1L << 16;

  private static final int THREADS = Math.max(1,
      Integer.getInteger("dev.selfbyt.cortexsdr.num_threads", Runtime.getRuntime().availableProcessors()));
  private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;

  private KernelThreads() {}

  /** Worker threads in use. */
  public static int threads() {
    return THREADS;
  }

  /** Runs {@code body(0 .. tasks-1)}, split over the pool when {@code work} is large enough. */
  public static void forEach(int tasks, long work, IntConsumer body) {
    if (POOL == null || tasks <= 1 || work < PARALLEL_MIN_WORK) {
      for (int i = 0; i < tasks; i++) {
        body.accept(i);
      }
      return;
    }
    int parts = Math.min(tasks, THREADS);
    List<RecursiveAction> actions = new ArrayList<>(parts);
    for (int p = 0; p < parts; p++) {
      int from = (int) ((long) tasks * p / parts);
      int to = (int) ((long) tasks * (p + 1) / parts);
      actions.add(new RecursiveAction() {
        @Override
        protected void compute() {
          for (int i = from; i < to; i++) {
            body.accept(i);
          }
        }
      });
    }
    if (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == POOL) {
      ForkJoinTask.invokeAll(actions);
    } else {
      POOL.invoke(new RecursiveAction() {
        @Override
        protected void compute() {
          invokeAll(actions);
        }
      });
    }
  }
}
