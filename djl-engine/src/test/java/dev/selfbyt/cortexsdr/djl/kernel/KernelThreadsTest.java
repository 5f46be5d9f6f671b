package dev.selfbyt.cortexsdr.djl.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The kernel threads run every task once, pass failures to the caller, and serve many callers. */
class KernelThreadsTest {
  private static final long LARGE = Long.MAX_VALUE; // always worth splitting

  @Test
  void everyTaskRunsExactlyOnce() {
    for (int tasks : new int[] {0, 1, 2, 3, 7, 64, 1000, 4099}) {
      AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(tasks, 1));
      KernelThreads.forEach(tasks, LARGE, seen::incrementAndGet);
      for (int i = 0; i < tasks; i++) {
        assertEquals(1, seen.get(i), "task " + i + " of " + tasks);
      }
    }
  }

  @Test
  void aFailingTaskFailsTheCallAndThePoolGoesOn() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> KernelThreads.forEach(100, LARGE, i -> {
      if (i == 57) {
        throw new IllegalStateException("task 57 failed");
      }
    }));
    assertEquals("task 57 failed", e.getMessage());
    AtomicIntegerArray seen = new AtomicIntegerArray(100);
    KernelThreads.forEach(100, LARGE, seen::incrementAndGet);
    for (int i = 0; i < 100; i++) {
      assertEquals(1, seen.get(i));
    }
  }

  @Test
  void nestedAndConcurrentCallsComplete() throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(6);
    try {
      List<Future<int[]>> results = new ArrayList<>();
      for (int c = 0; c < 24; c++) {
        results.add(callers.submit(() -> {
          AtomicIntegerArray seen = new AtomicIntegerArray(40 * 30);
          KernelThreads.forEach(40, LARGE, i -> KernelThreads.forEach(30, LARGE, j -> seen.incrementAndGet(i * 30 + j)));
          int[] out = new int[seen.length()];
          for (int i = 0; i < out.length; i++) {
            out[i] = seen.get(i);
          }
          return out;
        }));
      }
      for (Future<int[]> f : results) {
        for (int v : f.get()) {
          assertEquals(1, v);
        }
      }
    } finally {
      callers.shutdown();
    }
  }
}
