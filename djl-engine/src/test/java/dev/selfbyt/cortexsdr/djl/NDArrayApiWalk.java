package dev.selfbyt.cortexsdr.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Walks DJL's {@link NDArray} API on CortexSDR arrays: every method NDArray declares (found by
 * reflection) is called once with representative arguments (a {@code [2, 3, 4]} float array, axis
 * 1, a same-shaped operand; the methods whose arguments must fit together get an explicit call
 * below), plus the {@code NDArrayEx} and {@link NDArrays} calls DJL's translators and blocks make.
 * Each call is classified: run by CortexSDR, sent to DJL's alternative engine (the receiver built
 * its alternative copy, the alternative manager gained arrays, or a result came back from another
 * engine), or threw. The values are checked elsewhere (the operator tests); this is the coverage
 * map written into {@code docs/djl-operators.md}.
 */
final class NDArrayApiWalk {
  /** Where a call ran. */
  enum Outcome {
    CORTEXSDR("CortexSDR"),
    ALTERNATIVE("alternative engine"),
    ALTERNATIVE_FAILED("alternative engine, failed"),
    THROWS("throws"),
    WRONG_TYPE("CortexSDR, wrong data type");

    final String label;

    Outcome(String label) {
      this.label = label;
    }
  }

  /** One call and where it ran. */
  record Row(String call, Outcome outcome, String detail) {}

  /** A receiver and the arguments of one call. */
  private record Call(NDArray receiver, Object[] args) {}

  private final NDManager m;

  NDArrayApiWalk(NDManager m) {
    this.m = m;
  }

  // ---- representative arrays ----

  NDArray floats(long... shape) {
    int n = (int) new Shape(shape).size();
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = 0.1f + 0.8f * ((i * 7) % n) / n; // distinct, in (0, 1): valid for log, sqrt, acos, erfinv
    }
    return m.create(f, new Shape(shape));
  }

  private NDArray longs(long bound, long... shape) {
    int n = (int) new Shape(shape).size();
    long[] l = new long[n];
    for (int i = 0; i < n; i++) {
      l[i] = (i * 5L) % bound;
    }
    return m.create(l, new Shape(shape));
  }

  private NDArray typed(DataType t) {
    return floats(2, 3, 4).toType(t, false);
  }

  private NDArray bools(long... shape) {
    int n = (int) new Shape(shape).size();
    boolean[] b = new boolean[n];
    for (int i = 0; i < n; i++) {
      b[i] = i % 3 != 1;
    }
    return m.create(b, new Shape(shape));
  }

  /** The receiver for a method that reads its values back as one Java type. */
  private NDArray receiverFor(String name) {
    if (name.matches("(get|to)(Long|UnsignedInt).*")) {
      return typed(DataType.INT64);
    }
    if (name.matches("(get|to)Int.*")) {
      return typed(DataType.INT32);
    }
    if (name.matches("(get|to)(Uint8|Byte|UnsignedShort|Short).*")) {
      return name.contains("Short") ? typed(DataType.INT16) : typed(DataType.UINT8);
    }
    if (name.matches("(get|to)Double.*")) {
      return typed(DataType.FLOAT64);
    }
    if (name.matches("(get|to)Boolean.*|logical.*|all|any|none")) {
      return bools(2, 3, 4);
    }
    return floats(2, 3, 4);
  }

  private Object defaultArg(Class<?> t) {
    if (t == NDArray.class) {
      return floats(2, 3, 4);
    }
    if (t == Number.class) {
      return 2f;
    }
    if (t == int.class || t == Integer.class) {
      return 1;
    }
    if (t == long.class) {
      return 2L;
    }
    if (t == float.class) {
      return 0.5f;
    }
    if (t == double.class) {
      return 2.0;
    }
    if (t == boolean.class) {
      return true;
    }
    if (t == int[].class) {
      return new int[] {1};
    }
    if (t == long[].class) {
      return new long[] {1};
    }
    if (t == DataType.class) {
      return DataType.FLOAT32;
    }
    if (t == NDManager.class) {
      return m;
    }
    if (t == Device.class) {
      return Device.cpu();
    }
    if (t == SparseFormat.class) {
      return SparseFormat.DENSE;
    }
    if (t == java.nio.charset.Charset.class) {
      return StandardCharsets.UTF_8;
    }
    if (t == String.class) {
      return ":, 1";
    }
    if (t == Object[].class) {
      return new Object[0];
    }
    throw new IllegalStateException("no representative argument of " + t.getName());
  }

  /** The calls whose arguments must fit the receiver (index arrays, shapes, square matrices ...). */
  private Map<String, Function<NDArray, Call>> explicitCalls() {
    Map<String, Function<NDArray, Call>> c = new LinkedHashMap<>();
    c.put("gather(NDArray,int)", x -> new Call(floats(2, 3, 4), new Object[] {longs(3, 2, 2, 4), 1}));
    c.put("gatherNd(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {longs(2, 2, 3)}));
    c.put("take(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {longs(24, 2, 2)}));
    c.put("take(NDManager,NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {m, longs(24, 2, 2)}));
    c.put("get(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {bools(2, 3, 4)}));
    c.put("put(NDArray,NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {longs(24, 3), floats(3)}));
    c.put("scatter(NDArray,NDArray,int)", x -> new Call(floats(2, 3, 4), new Object[] {longs(3, 2, 2, 4), floats(2, 2, 4), 1}));
    c.put("booleanMask(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {bools(2)}));
    c.put("booleanMask(NDArray,int)", x -> new Call(floats(2, 3, 4), new Object[] {bools(3), 1}));
    c.put("set(NDArray,Number)", x -> new Call(floats(2, 3, 4), new Object[] {bools(2, 3, 4), 2f}));
    c.put("set(Buffer)", x -> new Call(floats(2, 3, 4), new Object[] {FloatBuffer.wrap(new float[24])}));
    c.put("set(float[])", x -> new Call(floats(2, 3, 4), new Object[] {new float[24]}));
    c.put("set(double[])", x -> new Call(typed(DataType.FLOAT64), new Object[] {new double[24]}));
    c.put("set(int[])", x -> new Call(typed(DataType.INT32), new Object[] {new int[24]}));
    c.put("set(long[])", x -> new Call(typed(DataType.INT64), new Object[] {new long[24]}));
    c.put("set(byte[])", x -> new Call(typed(DataType.INT8), new Object[] {new byte[24]}));
    c.put("set(NDIndex,NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {new NDIndex(":, 1"), floats(2, 4)}));
    c.put("set(NDIndex,Number)", x -> new Call(floats(2, 3, 4), new Object[] {new NDIndex("..., 1:3"), 2f}));
    c.put("set(NDIndex,Function)", x -> new Call(floats(2, 3, 4), new Object[] {new NDIndex("1"),
        (Function<NDArray, NDArray>) a -> a.mul(2)}));
    c.put("setScalar(NDIndex,Number)", x -> new Call(floats(2, 3, 4), new Object[] {new NDIndex("1, 2, 3"), 2f}));
    c.put("get(NDIndex)", x -> new Call(floats(2, 3, 4), new Object[] {new NDIndex("..., 1:3")}));
    c.put("get(NDManager,NDIndex)", x -> new Call(floats(2, 3, 4), new Object[] {m, new NDIndex(":, {}", longs(3, 2))}));
    c.put("get(String,Object[])", x -> new Call(floats(2, 3, 4), new Object[] {"-1, :, ::2", new Object[0]}));
    c.put("sequenceMask(NDArray)", x -> new Call(floats(2, 3), new Object[] {longs(3, 2)}));
    c.put("sequenceMask(NDArray,float)", x -> new Call(floats(2, 3), new Object[] {longs(3, 2), -1f}));
    c.put("oneHot(int)", x -> new Call(longs(4, 2, 3), new Object[] {4}));
    c.put("oneHot(int,DataType)", x -> new Call(longs(4, 2, 3), new Object[] {4, DataType.FLOAT32}));
    c.put("oneHot(int,float,float,DataType)", x -> new Call(longs(4, 2, 3), new Object[] {4, 1f, 0f,
        DataType.FLOAT32}));
    c.put("inverse()", x -> new Call(m.create(new float[] {4, 1, 0, 1, 3, 1, 0, 1, 2}, new Shape(3, 3)),
        new Object[0]));
    c.put("matMul(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {floats(4, 5)}));
    c.put("dot(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {floats(4, 5)}));
    c.put("batchDot(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {floats(2, 4, 5)}));
    c.put("batchMatMul(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {floats(2, 4, 5)}));
    c.put("reshape(Shape)", x -> new Call(floats(2, 3, 4), new Object[] {new Shape(4, -1)}));
    c.put("reshape(long[])", x -> new Call(floats(2, 3, 4), new Object[] {new long[] {6, 4}}));
    c.put("broadcast(Shape)", x -> new Call(floats(2, 3, 4), new Object[] {new Shape(2, 2, 3, 4)}));
    c.put("broadcast(long[])", x -> new Call(floats(2, 3, 4), new Object[] {new long[] {2, 2, 3, 4}}));
    c.put("squeeze()", x -> new Call(floats(2, 1, 4), new Object[0]));
    c.put("squeeze(int)", x -> new Call(floats(2, 1, 4), new Object[] {1}));
    c.put("squeeze(int[])", x -> new Call(floats(2, 1, 4), new Object[] {new int[] {-2}}));
    c.put("split(long)", x -> new Call(floats(2, 3, 4), new Object[] {2L}));
    c.put("split(long,int)", x -> new Call(floats(2, 3, 4), new Object[] {2L, -1}));
    c.put("split(long[])", x -> new Call(floats(2, 3, 4), new Object[] {new long[] {1}}));
    c.put("split(long[],int)", x -> new Call(floats(2, 3, 4), new Object[] {new long[] {1, 3}, 2}));
    c.put("swapAxes(int,int)", x -> new Call(floats(2, 3, 4), new Object[] {0, 2}));
    c.put("transpose(int[])", x -> new Call(floats(2, 3, 4), new Object[] {new int[] {2, 0, 1}}));
    c.put("flip(int[])", x -> new Call(floats(2, 3, 4), new Object[] {new int[] {0, -1}}));
    c.put("trace(int,int,int)", x -> new Call(floats(2, 3, 4), new Object[] {0, 1, 2}));
    c.put("diagonal(int,int,int)", x -> new Call(floats(2, 3, 4), new Object[] {0, 1, 2}));
    c.put("rotate90(int,int[])", x -> new Call(floats(2, 3, 4), new Object[] {1, new int[] {1, 2}}));
    c.put("topK(int,int)", x -> new Call(floats(2, 3, 4), new Object[] {2, -1}));
    c.put("topK(int,int,boolean,boolean)", x -> new Call(floats(2, 3, 4), new Object[] {2, 1, false, true}));
    c.put("norm(int,int[],boolean)", x -> new Call(floats(2, 3, 4), new Object[] {2, new int[] {-1}, true}));
    c.put("norm(int[])", x -> new Call(floats(2, 3, 4), new Object[] {new int[] {0, 2}}));
    c.put("percentile(Number,int[])", x -> new Call(floats(2, 3, 4), new Object[] {50, new int[] {1}}));
    c.put("flatten(int,int)", x -> new Call(floats(2, 3, 4), new Object[] {1, 2}));
    c.put("pad(Shape,double)", x -> new Call(floats(2, 3, 4), new Object[] {new Shape(1, 1), 0.0}));
    c.put("tile(Shape)", x -> new Call(floats(2, 3, 4), new Object[] {new Shape(4, 6, 8)}));
    c.put("tile(long[])", x -> new Call(floats(2, 3, 4), new Object[] {new long[] {1, 2, 1}}));
    c.put("repeat(Shape)", x -> new Call(floats(2, 3, 4), new Object[] {new Shape(4, 6, 8)}));
    c.put("repeat(long[])", x -> new Call(floats(2, 3, 4), new Object[] {new long[] {1, 2, 1}}));
    c.put("concat(NDArray,int)", x -> new Call(floats(2, 3, 4), new Object[] {floats(2, 1, 4), 1}));
    c.put("stack(NDArray,int)", x -> new Call(floats(2, 3, 4), new Object[] {floats(2, 3, 4), -1}));
    c.put("toType(DataType,boolean)", x -> new Call(floats(2, 3, 4), new Object[] {DataType.INT32, false}));
    c.put("cumProd(int,DataType)", x -> new Call(floats(2, 3, 4), new Object[] {1, DataType.FLOAT32}));
    c.put("copyTo(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {floats(2, 3, 4)}));
    c.put("intern(NDArray)", x -> new Call(floats(2, 3, 4), new Object[] {floats(2, 3, 4)}));
    c.put("toSparse(SparseFormat)", x -> new Call(floats(3, 4), new Object[] {SparseFormat.CSR}));
    c.put("diff(int,int)", x -> new Call(floats(2, 3, 4), new Object[] {1, -1}));
    c.put("stft(long,long,boolean,NDArray,boolean)", x -> new Call(floats(2, 16), new Object[] {4L, 2L, true,
        floats(4), false}));
    c.put("stft(long,long,boolean,NDArray,boolean,boolean)", x -> new Call(floats(2, 16), new Object[] {4L, 2L,
        true, floats(4), false, false}));
    c.put("getScalar(long[])", x -> new Call(floats(2, 3, 4), new Object[] {new long[] {1, 2, 3}}));
    for (String getter : new String[] {"getFloat", "getDouble", "getLong", "getInt", "getByte", "getUint8",
        "getBoolean"}) {
      c.put(getter + "(long[])", x -> new Call(receiverFor(getter), new Object[] {new long[] {1, 2, 3}}));
    }
    return c;
  }

  private static String signature(Method method) {
    StringBuilder sb = new StringBuilder(method.getName()).append('(');
    Class<?>[] p = method.getParameterTypes();
    for (int i = 0; i < p.length; i++) {
      sb.append(i > 0 ? "," : "").append(p[i].getSimpleName());
    }
    return sb.append(')').toString();
  }

  /** Every method NDArray declares, sorted by signature, and the extra translator calls. */
  List<Row> walk() {
    Map<String, Function<NDArray, Call>> explicit = explicitCalls();
    List<Method> methods = new ArrayList<>();
    for (Method method : NDArray.class.getDeclaredMethods()) {
      if (!Modifier.isStatic(method.getModifiers()) && !method.isSynthetic()
          && !method.getName().equals("close")) {
        methods.add(method);
      }
    }
    methods.sort(Comparator.comparing(NDArrayApiWalk::signature));
    List<Row> rows = new ArrayList<>();
    for (Method method : methods) {
      String sig = signature(method);
      Call call;
      try {
        if (explicit.containsKey(sig)) {
          call = explicit.get(sig).apply(null);
        } else {
          Object[] args = Arrays.stream(method.getParameterTypes()).map(this::defaultArg).toArray();
          call = new Call(receiverFor(method.getName()), args);
        }
      } catch (RuntimeException e) {
        // the receiver itself cannot be made (a FLOAT64 array with no alternative engine)
        rows.add(new Row(sig, Outcome.THROWS, "making its receiver: " + e.getClass().getSimpleName() + ": "
            + firstLine(e.getMessage())));
        continue;
      }
      rows.add(run(sig, call.receiver(), r -> method.invoke(r, call.args())));
    }
    rows.addAll(extraCalls());
    return rows;
  }

  /** The calls DJL's translators, transforms and blocks make outside NDArray's own methods. */
  private List<Row> extraCalls() {
    List<Row> rows = new ArrayList<>();
    NDArray image = m.create(java.nio.ByteBuffer.wrap(new byte[2 * 4 * 3]), new Shape(2, 4, 3), DataType.UINT8);
    rows.add(run("NDArrayEx.toTensor() [uint8 HWC image]", image, a -> a.getNDArrayInternal().toTensor()));
    rows.add(run("NDArrayEx.normalize(float[],float[])", floats(3, 2, 4),
        a -> a.getNDArrayInternal().normalize(new float[] {0.5f, 0.4f, 0.3f}, new float[] {0.2f, 0.2f, 0.3f})));
    rows.add(run("NDArrayEx.resize(int,int,int) [HWC]", floats(4, 6, 3), a -> a.getNDArrayInternal().resize(3, 2, 1)));
    rows.add(run("NDArrayEx.interpolation(long[],int,boolean)", floats(1, 3, 4, 6),
        a -> a.getNDArrayInternal().interpolation(new long[] {2, 3}, 1, false)));
    rows.add(run("NDArrayEx.crop(int,int,int,int)", floats(4, 6, 3), a -> a.getNDArrayInternal().crop(1, 1, 3, 2)));
    rows.add(run("NDArrayEx.rdiv(Number)", floats(2, 3), a -> a.getNDArrayInternal().rdiv(1f)));
    rows.add(run("NDArrayEx.rsub(Number)", floats(2, 3), a -> a.getNDArrayInternal().rsub(1f)));
    rows.add(run("NDArrayEx.rpow(Number)", floats(2, 3), a -> a.getNDArrayInternal().rpow(2f)));
    rows.add(run("NDArrayEx.sigmoid()", floats(2, 3), a -> a.getNDArrayInternal().sigmoid()));
    rows.add(run("NDArrayEx.softPlus()", floats(2, 3), a -> a.getNDArrayInternal().softPlus()));
    rows.add(run("NDArrayEx.leakyRelu(float)", floats(2, 3), a -> a.getNDArrayInternal().leakyRelu(0.1f)));
    rows.add(run("NDArrayEx.elu(float)", floats(2, 3), a -> a.getNDArrayInternal().elu(1f)));
    rows.add(run("NDArrayEx.selu()", floats(2, 3), a -> a.getNDArrayInternal().selu()));
    rows.add(run("NDArrayEx.swish(float)", floats(2, 3), a -> a.getNDArrayInternal().swish(1f)));
    rows.add(run("NDArrayEx.mish()", floats(2, 3), a -> a.getNDArrayInternal().mish()));
    rows.add(run("NDArrays.where(NDArray,NDArray,NDArray)", floats(2, 3),
        a -> NDArrays.where(bools(2, 3), a, floats(2, 3))));
    rows.add(run("NDArrays.concat(NDList,int)", floats(2, 3), a -> NDArrays.concat(new NDList(a, floats(1, 3)), 0)));
    rows.add(run("NDArrays.stack(NDList)", floats(2, 3), a -> NDArrays.stack(new NDList(a, floats(2, 3)))));
    rows.add(typed(run("NDManager.create(double[])", floats(2), a -> m.create(new double[] {1, 2})),
        DataType.FLOAT64));
    rows.add(typed(run("NDManager.create(Shape,DataType FLOAT16)", floats(2),
        a -> m.create(new Shape(2), DataType.FLOAT16)), DataType.FLOAT16));
    rows.add(typed(run("toType(FLOAT16)", floats(2, 3), a -> a.toType(DataType.FLOAT16, false)),
        DataType.FLOAT16));
    rows.add(typed(run("toType(FLOAT64)", floats(2, 3), a -> a.toType(DataType.FLOAT64, false)),
        DataType.FLOAT64));
    rows.add(run("NDManager.eye(int,int,int,DataType)", floats(2), a -> m.eye(3, 3, 0, DataType.FLOAT32)));
    rows.add(run("NDManager.linspace(float,float,int,boolean)", floats(2), a -> m.linspace(0, 1, 5, true)));
    rows.add(run("NDManager.randomInteger(long,long,Shape,DataType)", floats(2),
        a -> m.randomInteger(0, 5, new Shape(3), DataType.INT64)));
    return rows;
  }

  /** A call that may throw any exception. */
  private interface Invocation {
    Object apply(NDArray receiver) throws Exception;
  }

  private Object lastResult;

  /** A row whose array result must have type {@code expected}: the engine must not report another. */
  private Row typed(Row row, DataType expected) {
    if (row.outcome() == Outcome.CORTEXSDR && lastResult instanceof NDArray a && a.getDataType() != expected) {
      return new Row(row.call(), Outcome.WRONG_TYPE, "reports " + a.getDataType());
    }
    return row;
  }

  private Row run(String sig, NDArray receiver, Invocation invocation) {
    NDManager alt = ((CaiNDManager) m).alternative();
    int altBefore = alt == null ? 0 : alt.getManagedArrays().size();
    Object result;
    Throwable error = null;
    try {
      result = invocation.apply(receiver);
    } catch (InvocationTargetException e) {
      error = e.getCause();
      result = null;
    } catch (Exception | Error e) {
      error = e;
      result = null;
    }
    lastResult = result;
    boolean alternativeUsed = !(receiver instanceof CaiNDArray c) || c.usedAlternativeEngine()
        || (alt != null && alt.getManagedArrays().size() > altBefore) || foreign(result);
    if (error != null) {
      String detail = error.getClass().getSimpleName() + ": " + firstLine(error.getMessage());
      return new Row(sig, alternativeUsed ? Outcome.ALTERNATIVE_FAILED : Outcome.THROWS, detail);
    }
    return new Row(sig, alternativeUsed ? Outcome.ALTERNATIVE : Outcome.CORTEXSDR, "");
  }

  private static boolean foreign(Object result) {
    if (result instanceof NDArray a) {
      return !(a instanceof CaiNDArray);
    }
    if (result instanceof NDList l) {
      return l.stream().anyMatch(a -> !(a instanceof CaiNDArray));
    }
    if (result instanceof List<?> l) {
      return l.stream().anyMatch(a -> a instanceof NDArray && !(a instanceof CaiNDArray));
    }
    return false;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    String line = s.lines().findFirst().orElse("");
    return line.length() > 110 ? line.substring(0, 107) + "..." : line;
  }

  /** The rows as a Markdown table, with the count per outcome first. */
  static String markdown(List<Row> rows) {
    StringBuilder sb = new StringBuilder();
    for (Outcome o : Outcome.values()) {
      sb.append("- ").append(o.label).append(": ").append(rows.stream().filter(r -> r.outcome() == o).count())
          .append('\n');
    }
    sb.append("\n| call | runs in | note |\n|---|---|---|\n");
    for (Row r : rows) {
      sb.append("| `").append(r.call()).append("` | ").append(r.outcome().label).append(" | ")
          .append(r.detail().replace("|", "\\|")).append(" |\n");
    }
    return sb.toString();
  }
}
