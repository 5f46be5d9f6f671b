package dev.selfbyt.cortexsdr.djl.graph;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Output arrays of one graph run handed back for reuse once no slot holds them: a large array
 * the JVM allocates is zeroed first (a {@code memset} of cold memory that took 12% of the
 * steady-state time of a W8A8 MiniLM run at batch 1), while a recycled one is still in cache and
 * needs no zeroing, because only operators that write every element take arrays from here ({@link
 * #floats}). Only arrays this recycler made are ever handed back, and only when the count of
 * slots holding them (views such as {@code Reshape} share their input's array) falls to zero;
 * graph outputs stay in their slots, so they are never reused. One recycler per {@link
 * GraphExecutor#run} call, on its thread ({@link #current}); not thread-safe.
 */
final class ArrayRecycler {
  private static final ThreadLocal<ArrayRecycler> CURRENT = new ThreadLocal<>();
  /** Arrays smaller than this are left to the allocation fast path (zeroing them costs little). */
  static final int MIN_LENGTH = 1 << 12;

  /** Slots holding each array this recycler made (by identity). */
  private final Map<float[], int[]> holders = new IdentityHashMap<>();
  private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();

  /** The recycler of the graph run on this thread, or null outside a run. */
  static ArrayRecycler current() {
    return CURRENT.get();
  }

  /** Makes {@code r} this thread's recycler (null: none) and returns the one it replaces (a nested run restores it). */
  static ArrayRecycler enter(ArrayRecycler r) {
    ArrayRecycler before = CURRENT.get();
    if (r == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(r);
    }
    return before;
  }

  /**
   * A float array of length {@code n} whose contents are undefined (a recycled one, or a new one):
   * only for a caller that writes every element before anything reads it. Outside a graph run, a
   * new array.
   */
  static float[] floats(int n) {
    ArrayRecycler r = CURRENT.get();
    if (r == null || n < MIN_LENGTH) {
      return new float[n];
    }
    ArrayDeque<float[]> q = r.free.get(n);
    float[] a = q == null ? null : q.poll();
    if (a == null) {
      a = new float[n];
    }
    r.holders.put(a, new int[1]);
    return a;
  }

  /** A slot now holds {@code v}. */
  void held(Value v) {
    int[] c = v == null ? null : holders.get(v.denseFloats());
    if (c != null) {
      c[0]++;
    }
  }

  /** A slot no longer holds {@code v}: its array is reused once no slot holds it. */
  void dropped(Value v) {
    float[] a = v == null ? null : v.denseFloats();
    int[] c = a == null ? null : holders.get(a);
    if (c != null && --c[0] <= 0) {
      holders.remove(a);
      free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
    }
  }
}
