package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The threads that split large products: {@code dev.selfbyt.cortexsdr.num_threads} in all (default:
 * available processors), the calling thread and {@code num_threads - 1} daemon workers shared by
 * every model. A parallel call publishes its tasks; the caller and the workers take task indices
 * from one counter until none are left, and the caller waits for the last one by spinning. Workers
 * spin for {@code dev.selfbyt.cortexsdr.spin_micros} (default 100) after a call before they park,
 * so the next operator of a graph finds them awake (a parked thread takes tens of microseconds to
 * wake, which is as long as a small product); ONNX Runtime's thread pool does the same.
 *
 * <p>One call uses the workers at a time: a call made while they are busy (another thread's, or a
 * nested one) runs on its caller alone, so many threads sharing a model never wait on each other.
 * Small products run on the caller's thread.
 */
public final class KernelThreads {
  /** Below this many multiply-adds a product runs on one thread. */
  static final long PARALLEL_MIN_WORK = 1L << 16;

  private static final int THREADS = Math.max(1,
      Integer.getInteger("dev.selfbyt.cortexsdr.num_threads", Runtime.getRuntime().availableProcessors()));
  private static final long SPIN_NANOS = 1000L * Math.max(0, Integer.getInteger("dev.selfbyt.cortexsdr.spin_micros",
      100));
  private static final AtomicBoolean BUSY = new AtomicBoolean();
  private static volatile Job current;
  private static final Worker[] WORKERS = new Worker[THREADS - 1];

  static {
    for (int i = 0; i < WORKERS.length; i++) {
      WORKERS[i] = new Worker(i + 1);
      WORKERS[i].start();
    }
  }

  private KernelThreads() {}

  /** Threads a product may use, the caller's included. */
  public static int threads() {
    return THREADS;
  }

  /** Runs {@code body(0 .. tasks-1)}, split over the threads when {@code work} is large enough. */
  public static void forEach(int tasks, long work, IntConsumer body) {
    if (WORKERS.length == 0 || tasks <= 1 || work < PARALLEL_MIN_WORK || !BUSY.compareAndSet(false, true)) {
      for (int i = 0; i < tasks; i++) {
        body.accept(i);
      }
      return;
    }
    try {
      Job job = new Job(body, tasks);
      current = job;
      for (Worker w : WORKERS) {
        w.wake();
      }
      job.work();
      while (job.done.get() < tasks) {
        Thread.onSpinWait();
      }
      current = null;
      if (job.error != null) {
        if (job.error instanceof RuntimeException e) {
          throw e;
        }
        if (job.error instanceof Error e) {
          throw e;
        }
        throw new IllegalStateException(job.error);
      }
    } finally {
      BUSY.set(false);
    }
  }

  /** One parallel call: the tasks still to take, the ones finished, the first failure. */
  private static final class Job {
    final IntConsumer body;
    final int tasks;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    volatile Throwable error;

    Job(IntConsumer body, int tasks) {
      this.body = body;
      this.tasks = tasks;
    }

    /** Takes tasks in chunks (a quarter of a fair share each), so tiny tasks do not fight over the counter. */
    void work() {
      int chunk = Math.max(1, tasks / (4 * THREADS));
      for (int i = next.getAndAdd(chunk); i < tasks; i = next.getAndAdd(chunk)) {
        int end = Math.min(tasks, i + chunk);
        for (int t = i; t < end; t++) {
          try {
            body.accept(t);
          } catch (Throwable e) {
            if (error == null) {
              error = e;
            }
          }
        }
        done.addAndGet(end - i);
      }
    }
  }

  private static final class Worker extends Thread {
    private volatile boolean parked;

    Worker(int n) {
      super("cortexsdr-kernel-" + n);
      setDaemon(true);
    }

    void wake() {
      if (parked) {
        LockSupport.unpark(this);
      }
    }

    @Override
    public void run() {
      Job last = null;
      long idleSince = System.nanoTime();
      while (true) {
        Job j = current;
        if (j != null && j != last) {
          last = j;
          j.work();
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
          Thread.onSpinWait();
        } else {
          parked = true;
          j = current; // a call published after the check above sees parked and unparks this thread
          if (j == null || j == last) {
            LockSupport.park(this);
          }
          parked = false;
          idleSince = System.nanoTime();
        }
      }
    }
  }
}
