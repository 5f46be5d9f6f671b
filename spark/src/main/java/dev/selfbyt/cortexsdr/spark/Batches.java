package dev.selfbyt.cortexsdr.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A partition's rows taken {@code size} at a time, each batch turned into as many output rows, read
 * lazily: a partition of any length needs memory for one batch only.
 */
final class Batches<I, O> implements Iterator<O> {
  /** Turns one batch into its outputs, one per input, in order. */
  @FunctionalInterface
  interface Step<I, O> {
    List<O> apply(List<I> batch) throws Exception;
  }

  private final Iterator<I> in;
  private final int size;
  private final Step<I, O> step;
  private Iterator<O> current = java.util.Collections.emptyIterator();

  Batches(Iterator<I> in, int size, Step<I, O> step) {
    this.in = in;
    this.size = size;
    this.step = step;
  }

  @Override
  public boolean hasNext() {
    while (!current.hasNext() && in.hasNext()) {
      List<I> batch = new ArrayList<>(size);
      while (batch.size() < size && in.hasNext()) {
        batch.add(in.next());
      }
      List<O> out;
      try {
        out = step.apply(batch);
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
      }
      if (out.size() != batch.size()) {
        throw new IllegalStateException(batch.size() + " rows in, " + out.size() + " out");
      }
      current = out.iterator();
    }
    return current.hasNext();
  }

  @Override
  public O next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return current.next();
  }
}
