package dev.selfbyt.cortexsdr.spark;

import java.util.List;

/**
 * Spark array values as Java arrays: a {@code java.util.List} (from {@code Row.getList}), a Scala
 * {@code Seq} (what a Java UDF receives) or a Java array, of numbers.
 */
final class ArrayValues {
  private ArrayValues() {}

  static long[] longs(Object v) {
    List<?> list = list(v);
    long[] a = new long[list.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = number(list.get(i)).longValue();
    }
    return a;
  }

  static float[] floats(Object v) {
    List<?> list = list(v);
    float[] a = new float[list.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = number(list.get(i)).floatValue();
    }
    return a;
  }

  private static Number number(Object o) {
    if (o == null) {
      throw new IllegalArgumentException("a null element in an input array");
    }
    return (Number) o;
  }

  private static List<?> list(Object v) {
    if (v instanceof List<?> l) {
      return l;
    }
    if (v instanceof scala.collection.Seq<?> s) {
      return scala.jdk.javaapi.CollectionConverters.asJava(s);
    }
    if (v instanceof long[] a) {
      return java.util.Arrays.stream(a).boxed().toList();
    }
    if (v instanceof float[] a) {
      Float[] b = new Float[a.length];
      for (int i = 0; i < a.length; i++) {
        b[i] = a[i];
      }
      return List.of(b);
    }
    if (v instanceof Object[] a) {
      return java.util.Arrays.asList(a);
    }
    throw new IllegalArgumentException("not an array value: " + v.getClass().getName());
  }
}
