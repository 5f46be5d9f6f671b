package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A pool of threads that split large products: {@code threads} in all, the calling thread and
 * {@code threads - 1} daemon workers. Get one with {@link #pool(int, int)} (one pool per distinct
 * setting, shared by the models that ask for it) or {@link #defaultPool()} (the JVM-wide one,
 * sized by the engine's defaults); a model's calls run in its {@link KernelScope}, and the static
 * {@link #forEach} uses the pool of the scope it is called in.
 *
 * <p>A parallel call publishes its tasks; the caller and the workers take task indices from one
 * counter until none are left, and the caller waits for the last one by spinning. Workers spin
 * for {@code spinMicros} after a call before they park, so the next operator of a graph finds
 * them awake (a parked thread takes tens of microseconds to wake, which is as long as a small
 * product); ONNX Runtime's thread pool does the same.
 *
 * <p>One call uses a pool's workers at a time: a call made while they are busy (another thread's,
 * or a nested one) runs on its caller alone, so many threads sharing a model never wait on each
 * other. Small products run on the caller's thread.
 */
public final class KernelThreads {
  /** Below this many multiply-adds a product runs on one thread. */
  static final long PARALLEL_MIN_WORK = 1L << 16;

  private static final Map<Long, KernelThreads> POOLS = new ConcurrentHashMap<>();

  private final int threads;
  private final long spinNanos;
  private final AtomicBoolean busy = new AtomicBoolean();
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong parallelCalls = new AtomicLong();
  private volatile Job current;
  private final Worker[] workers;

  private KernelThreads(int threads, int spinMicros) {
    this.threads = threads;
    this.spinNanos = 1000L * spinMicros;
    this.workers = new Worker[threads - 1];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker(this, threads + "t-" + (i + 1));
      workers[i].start();
    }
  }

  /**
   * The pool of {@code threads} threads (the caller's included) whose idle workers spin {@code
   * spinMicros} before parking; made on first use, then shared.
   */
  public static KernelThreads pool(int threads, int spinMicros) {
    if (threads < 1 || spinMicros < 0) {
      throw new IllegalArgumentException("kernel threads " + threads + " (at least 1), spin " + spinMicros
          + " microseconds (at least 0)");
    }
    return POOLS.computeIfAbsent(((long) threads << 32) | spinMicros, k -> new KernelThreads(threads, spinMicros));
  }

  /** The pool calls outside any model's scope use (the engine's JVM-wide defaults). */
  public static KernelThreads defaultPool() {
    return KernelScope.defaultScope().threads();
  }

  /** Threads a product may use in the current scope, the caller's included. */
  public static int threads() {
    return KernelScope.currentOrDefault().threads().threads;
  }

  /** Runs {@code body(0 .. tasks-1)} on the current scope's pool, split when {@code work} is large enough. */
  public static void forEach(int tasks, long work, IntConsumer body) {
    KernelScope scope = KernelScope.currentOrDefault();
    scope.threads().run(scope, tasks, work, body);
  }

  /** Threads of this pool, the caller's included. */
  public int threadCount() {
    return threads;
  }

  /** Idle spin of the workers, in microseconds. */
  public int spinMicros() {
    return (int) (spinNanos / 1000);
  }

  /** How many calls ran in this pool so far, split or not (for reports and tests). */
  public long calls() {
    return calls.get();
  }

  /** How many calls were split over this pool's workers so far (for reports and tests). */
  public long parallelCalls() {
    return parallelCalls.get();
  }

  private void run(KernelScope scope, int tasks, long work, IntConsumer body) {
    calls.incrementAndGet();
    if (workers.length == 0 || tasks <= 1 || work < PARALLEL_MIN_WORK || !busy.compareAndSet(false, true)) {
      for (int i = 0; i < tasks; i++) {
        body.accept(i);
      }
      return;
    }
    try {
      parallelCalls.incrementAndGet();
      Job job = new Job(body, tasks, threads, scope);
      current = job;
      for (Worker w : workers) {
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
      busy.set(false);
    }
  }

  @Override
  public String toString() {
    return threads + " kernel threads (spin " + spinMicros() + " us)";
  }

  /** One parallel call: the tasks still to take, the ones finished, the first failure, the caller's scope. */
  private static final class Job {
    final IntConsumer body;
    final int tasks;
    final int threads;
    final KernelScope scope;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    volatile Throwable error;

    Job(IntConsumer body, int tasks, int threads, KernelScope scope) {
      this.body = body;
      this.tasks = tasks;
      this.threads = threads;
      this.scope = scope;
    }

    /** Takes tasks in chunks (a quarter of a fair share each), so tiny tasks do not fight over the counter. */
    void work() {
      int chunk = Math.max(1, tasks / (4 * threads));
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
    private final KernelThreads pool;
    private volatile boolean parked;

    Worker(KernelThreads pool, String name) {
      super("cortexsdr-kernel-" + name);
      this.pool = pool;
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
        Job j = pool.current;
        if (j != null && j != last) {
          last = j;
          // the caller's scope, so that a task asking for the kernels gets the model's
          KernelScope.runIn(j.scope, j::work);
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince < pool.spinNanos) {
          Thread.onSpinWait();
        } else {
          parked = true;
          j = pool.current; // a call published after the check above sees parked and unparks this thread
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
