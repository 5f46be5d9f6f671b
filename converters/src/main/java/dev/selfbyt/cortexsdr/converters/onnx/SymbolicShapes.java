package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Shapes of a graph's values in terms of its inputs' dimensions, as far as they can be proven
 * without running it: a dimension is a number ({@code "384"}), a graph input's symbolic name
 * ({@code "$batch_size"}) or unknown ({@code null}); a whole shape is unknown ({@link
 * #shape} returns null) when its rank is. The small integer tensors that shapes are computed from
 * ({@code Shape}, {@code Gather}, {@code Unsqueeze}, {@code Concat}, {@code Slice} of a shape) are
 * followed by value, so a {@code Reshape} to a computed shape keeps its symbolic dimensions, as
 * ONNX Runtime's symbolic shape inference for transformers does. Operators not known here give an
 * unknown shape: the answer is either proven or null, never a guess.
 *
 * <p>Used to prove what a fusion needs (two operands of the same shape, a rank) before writing a
 * fused operator that would fail at run time on shapes it does not take.
 */
final class SymbolicShapes {
  private static final Set<String> UNARY = Set.of("Cast", "Sqrt", "Erf", "Relu", "Tanh", "Sigmoid", "Softmax", "Gelu",
      "Neg", "Exp", "Log", "Abs", "Reciprocal", "Identity", "Dropout", "LayerNormalization", "FastGelu", "BiasGelu",
      "Clip", "LeakyRelu", "HardSigmoid", "Not", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos");
  private static final Set<String> BROADCAST = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Where", "Equal", "Less",
      "Greater", "And", "Or", "Max", "Min", "Mod", "LessOrEqual", "GreaterOrEqual");

  private final Map<String, NodeProto> producer = new HashMap<>();
  private final Map<String, TensorProto> constants = new HashMap<>();
  private final Map<String, List<String>> inputs = new HashMap<>();
  private final Map<String, Optional<List<String>>> shapes = new HashMap<>();
  private final Map<String, Optional<List<String>>> values = new HashMap<>();

  SymbolicShapes(GraphProto g) {
    for (TensorProto t : g.getInitializerList()) {
      constants.put(t.getName(), t);
    }
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("Constant") && n.getOutputCount() == 1 && n.getAttributeCount() == 1
          && n.getAttribute(0).getName().equals("value")) {
        constants.put(n.getOutput(0), n.getAttribute(0).getT());
      }
      for (String o : n.getOutputList()) {
        producer.put(o, n);
      }
    }
    for (ValueInfoProto v : g.getInputList()) {
      if (constants.containsKey(v.getName()) || !v.getType().hasTensorType()
          || !v.getType().getTensorType().hasShape()) {
        continue;
      }
      List<String> dims = new ArrayList<>();
      for (TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
        dims.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() && !d.getDimParam().isEmpty()
            ? "$" + d.getDimParam() : null);
      }
      inputs.put(v.getName(), dims);
    }
  }

  /** The shape of {@code name}, or null when even its rank cannot be proven. */
  List<String> shape(String name) {
    Optional<List<String>> s = shapes.get(name);
    if (s == null) {
      shapes.put(name, Optional.empty()); // a cycle (not in a valid graph) ends as unknown
      s = Optional.ofNullable(computeShape(name));
      shapes.put(name, s);
    }
    return s.orElse(null);
  }

  /** True when {@code a} and {@code b} are proven to have the same shape at every run. */
  boolean sameShape(String a, String b) {
    List<String> x = shape(a);
    List<String> y = shape(b);
    if (x == null || y == null || x.size() != y.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      if (x.get(i) == null || !x.get(i).equals(y.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** The elements of a small integer tensor (a shape being computed), or null. */
  List<String> value(String name) {
    Optional<List<String>> v = values.get(name);
    if (v == null) {
      values.put(name, Optional.empty());
      v = Optional.ofNullable(computeValue(name));
      values.put(name, v);
    }
    return v.orElse(null);
  }

  private List<String> computeShape(String name) {
    TensorProto c = constants.get(name);
    if (c != null) {
      List<String> dims = new ArrayList<>();
      c.getDimsList().forEach(d -> dims.add(Long.toString(d)));
      return dims;
    }
    if (inputs.containsKey(name)) {
      return inputs.get(name);
    }
    NodeProto n = producer.get(name);
    if (n == null || !n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")
        && !n.getDomain().equals("com.microsoft") || !n.getOutput(0).equals(name)) {
      return null;
    }
    String op = n.getOpType();
    if (UNARY.contains(op)) {
      return shape(n.getInput(0));
    }
    if (BROADCAST.contains(op)) {
      List<String> out = List.of();
      for (String in : n.getInputList()) {
        List<String> s = shape(in);
        out = s == null ? null : broadcast(out, s);
        if (out == null) {
          return null;
        }
      }
      return out;
    }
    switch (op) {
      case "MatMul": {
        List<String> a = shape(n.getInput(0));
        List<String> b = shape(n.getInput(1));
        if (a == null || b == null || a.size() < 2 || b.size() < 2) {
          return null;
        }
        List<String> batch = broadcast(a.subList(0, a.size() - 2), b.subList(0, b.size() - 2));
        if (batch == null) {
          return null;
        }
        List<String> out = new ArrayList<>(batch);
        out.add(a.get(a.size() - 2));
        out.add(b.get(b.size() - 1));
        return out;
      }
      case "Transpose": {
        List<String> a = shape(n.getInput(0));
        if (a == null) {
          return null;
        }
        List<Long> perm = ints(n, "perm");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
          int p = perm == null ? a.size() - 1 - i : perm.get(i).intValue();
          if (p < 0 || p >= a.size()) {
            return null;
          }
          out.add(a.get(p));
        }
        return perm != null && perm.size() != a.size() ? null : out;
      }
      case "Reshape": {
        List<String> a = shape(n.getInput(0));
        List<String> target = value(n.getInput(1));
        if (target == null || OnnxAttributes.intAttr(n, "allowzero", 0) != 0) {
          return null;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < target.size(); i++) {
          String t = target.get(i);
          out.add("0".equals(t) ? a != null && i < a.size() ? a.get(i) : null : "-1".equals(t) ? null : t);
        }
        return out;
      }
      case "Unsqueeze":
      case "Squeeze": {
        List<String> a = shape(n.getInput(0));
        List<Long> axes = axes(n);
        if (a == null || axes == null) {
          return null;
        }
        List<String> out = new ArrayList<>(a);
        if (op.equals("Unsqueeze")) {
          int rank = a.size() + axes.size();
          List<Integer> sorted = axes.stream().map(x -> (int) (x < 0 ? x + rank : x)).sorted().toList();
          for (int x : sorted) {
            if (x < 0 || x > out.size()) {
              return null;
            }
            out.add(x, "1");
          }
        } else {
          List<Integer> sorted = axes.stream().map(x -> (int) (x < 0 ? x + a.size() : x))
              .sorted(java.util.Comparator.reverseOrder()).toList();
          for (int x : sorted) {
            if (x < 0 || x >= out.size() || !"1".equals(out.get(x))) {
              return null;
            }
            out.remove(x);
          }
        }
        return out;
      }
      case "Gather": {
        List<String> data = shape(n.getInput(0));
        List<String> idx = shape(n.getInput(1));
        if (data == null || idx == null) {
          return null;
        }
        int axis = (int) OnnxAttributes.intAttr(n, "axis", 0);
        axis = axis < 0 ? axis + data.size() : axis;
        if (axis < 0 || axis >= data.size()) {
          return null;
        }
        List<String> out = new ArrayList<>(data.subList(0, axis));
        out.addAll(idx);
        out.addAll(data.subList(axis + 1, data.size()));
        return out;
      }
      case "ReduceMean":
      case "ReduceSum":
      case "ReduceMax": {
        List<String> a = shape(n.getInput(0));
        List<Long> axes = axes(n);
        if (a == null || axes == null || OnnxAttributes.intAttr(n, "keepdims", 1) != 1) {
          return null;
        }
        List<String> out = new ArrayList<>(a);
        for (long x : axes) {
          int i = (int) (x < 0 ? x + a.size() : x);
          if (i < 0 || i >= a.size()) {
            return null;
          }
          out.set(i, "1");
        }
        return out;
      }
      case "Shape": {
        List<String> a = shape(n.getInput(0));
        return a == null || n.getAttributeCount() > 0 ? null : List.of(Integer.toString(a.size()));
      }
      case "Concat": {
        List<String> v = value(name);
        if (v != null) {
          return List.of(Integer.toString(v.size()));
        }
        return null;
      }
      case "Slice": {
        List<String> a = shape(n.getInput(0));
        if (a == null || n.getInputCount() < 3) {
          return null;
        }
        List<String> starts = value(n.getInput(1));
        List<String> ends = value(n.getInput(2));
        List<String> axes = n.getInputCount() > 3 && !n.getInput(3).isEmpty() ? value(n.getInput(3)) : null;
        List<String> steps = n.getInputCount() > 4 && !n.getInput(4).isEmpty() ? value(n.getInput(4)) : null;
        if (starts == null || ends == null || n.getInputCount() > 3 && !n.getInput(3).isEmpty() && axes == null
            || n.getInputCount() > 4 && !n.getInput(4).isEmpty() && steps == null) {
          return null;
        }
        List<String> out = new ArrayList<>(a);
        for (int i = 0; i < starts.size(); i++) {
          int axis = axes == null ? i : parse(axes.get(i));
          axis = axis < 0 ? axis + a.size() : axis;
          if (axis < 0 || axis >= a.size() || !"0".equals(starts.get(i)) || steps != null && !"1".equals(steps.get(i))) {
            return null;
          }
          // from 0, step 1: the end, or the whole axis when the end is past it; a symbolic end past
          // a fixed axis would make the model's own later operators fail, so it counts as the end
          String end = ends.get(i);
          String dim = a.get(axis);
          if (end == null) {
            return null;
          }
          if (isNumber(end) && isNumber(dim)) {
            out.set(axis, Long.toString(Math.min(Long.parseLong(end), Long.parseLong(dim))));
          } else if (isNumber(end) && Long.parseLong(end) >= Integer.MAX_VALUE) {
            out.set(axis, dim);
          } else if (!isNumber(end) && dim != null && (isNumber(dim) || end.equals(dim))) {
            out.set(axis, end);
          } else {
            return null;
          }
        }
        return out;
      }
      default:
        return null;
    }
  }

  private List<String> computeValue(String name) {
    TensorProto c = constants.get(name);
    if (c != null) {
      return constantInts(c);
    }
    NodeProto n = producer.get(name);
    if (n == null || !n.getOutput(0).equals(name)) {
      return null;
    }
    switch (n.getOpType()) {
      case "Shape":
        return n.getAttributeCount() > 0 ? null : shape(n.getInput(0));
      case "Cast":
      case "Identity":
        return value(n.getInput(0));
      case "Gather": {
        List<String> data = value(n.getInput(0));
        List<String> idx = value(n.getInput(1));
        List<String> idxShape = shape(n.getInput(1));
        if (data == null || idx == null || idxShape == null || idxShape.size() > 1 || OnnxAttributes.intAttr(n, "axis", 0) != 0) {
          return null;
        }
        List<String> out = new ArrayList<>();
        for (String i : idx) {
          if (!isNumber(i)) {
            return null;
          }
          int k = parse(i);
          k = k < 0 ? k + data.size() : k;
          if (k < 0 || k >= data.size()) {
            return null;
          }
          out.add(data.get(k));
        }
        return out;
      }
      case "Unsqueeze":
      case "Squeeze":
        return value(n.getInput(0));
      case "Concat": {
        List<String> out = new ArrayList<>();
        for (String in : n.getInputList()) {
          List<String> v = value(in);
          if (v == null) {
            return null;
          }
          out.addAll(v);
        }
        return out;
      }
      case "Slice": {
        List<String> data = value(n.getInput(0));
        List<String> starts = n.getInputCount() > 2 ? value(n.getInput(1)) : null;
        List<String> ends = n.getInputCount() > 2 ? value(n.getInput(2)) : null;
        if (data == null || starts == null || ends == null || starts.size() != 1 || n.getInputCount() > 4
            || !isNumber(starts.get(0)) || !isNumber(ends.get(0))) {
          return null;
        }
        long s = Long.parseLong(starts.get(0));
        long e = Long.parseLong(ends.get(0));
        s = Math.max(0, Math.min(data.size(), s < 0 ? s + data.size() : s));
        e = Math.max(0, Math.min(data.size(), e < 0 ? e + data.size() : e));
        return s <= e ? new ArrayList<>(data.subList((int) s, (int) e)) : null;
      }
      default:
        return null;
    }
  }

  /** Numpy broadcasting of two shapes, or null when a dimension cannot be proven. */
  private static List<String> broadcast(List<String> a, List<String> b) {
    int rank = Math.max(a.size(), b.size());
    List<String> out = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      String x = i < rank - a.size() ? "1" : a.get(i - (rank - a.size()));
      String y = i < rank - b.size() ? "1" : b.get(i - (rank - b.size()));
      if ("1".equals(x)) {
        out.add(y);
      } else if ("1".equals(y) || x != null && x.equals(y)) {
        out.add(x);
      } else {
        return null;
      }
    }
    return out;
  }

  private List<Long> axes(NodeProto n) {
    List<Long> a = ints(n, "axes");
    if (a != null) {
      return a;
    }
    if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
      List<String> v = value(n.getInput(1));
      if (v == null || v.stream().anyMatch(x -> !isNumber(x))) {
        return null;
      }
      return v.stream().map(Long::parseLong).toList();
    }
    // no axes: Squeeze of every 1 and Reduce* of every axis are not followed here
    return null;
  }

  private static List<Long> ints(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getIntsList();
      }
    }
    return null;
  }

  /** The elements of an int32/int64 constant of at most 16 elements as numbers, else null. */
  private static List<String> constantInts(TensorProto t) {
    long numel = 1;
    for (long d : t.getDimsList()) {
      numel *= d;
    }
    if (numel > 16 || t.getDimsCount() > 1) {
      return null;
    }
    List<String> out = new ArrayList<>();
    boolean int64 = t.getDataType() == TensorProto.DataType.INT64_VALUE;
    if (!int64 && t.getDataType() != TensorProto.DataType.INT32_VALUE) {
      return null;
    }
    if (!t.getRawData().isEmpty()) {
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      if (b.remaining() != numel * (int64 ? 8 : 4)) {
        return null;
      }
      for (int i = 0; i < numel; i++) {
        out.add(Long.toString(int64 ? b.getLong() : b.getInt()));
      }
    } else if (int64 && t.getInt64DataCount() == numel) {
      t.getInt64DataList().forEach(v -> out.add(Long.toString(v)));
    } else if (!int64 && t.getInt32DataCount() == numel) {
      t.getInt32DataList().forEach(v -> out.add(Long.toString(v)));
    } else {
      return null;
    }
    return out;
  }

  static boolean isNumber(String d) {
    return d != null && !d.startsWith("$");
  }

  private static int parse(String d) {
    long v = Long.parseLong(d);
    return v > Integer.MAX_VALUE ? Integer.MAX_VALUE : v < Integer.MIN_VALUE ? Integer.MIN_VALUE : (int) v;
  }

  /**
   * {@code g} with the data of its small data-less initializers and constants filled in from {@code
   * data} (a stored graph leaves weights' data out, and shapes are computed from the small ones).
   *
   * @param data the little-endian bytes of a tensor of at most 16 elements, or null when unknown
   */
  static GraphProto withSmallData(GraphProto g, Function<String, ByteBuffer> data) {
    GraphProto.Builder b = g.toBuilder();
    for (int i = 0; i < b.getInitializerCount(); i++) {
      TensorProto t = b.getInitializer(i);
      ByteString raw = missing(t) ? bytes(data, t.getName()) : null;
      if (raw != null) {
        b.setInitializer(i, t.toBuilder().setRawData(raw));
      }
    }
    for (int i = 0; i < b.getNodeCount(); i++) {
      NodeProto n = b.getNode(i);
      if (n.getOpType().equals("Constant") && n.getAttributeCount() == 1 && n.getOutputCount() == 1
          && n.getAttribute(0).hasT() && missing(n.getAttribute(0).getT())) {
        ByteString raw = bytes(data, n.getOutput(0));
        if (raw != null) {
          b.setNode(i, n.toBuilder().setAttribute(0, n.getAttribute(0).toBuilder()
              .setT(n.getAttribute(0).getT().toBuilder().setRawData(raw))));
        }
      }
    }
    return b.build();
  }

  private static boolean missing(TensorProto t) {
    long numel = 1;
    for (long d : t.getDimsList()) {
      numel *= d;
    }
    return numel <= 16 && t.getRawData().isEmpty() && t.getFloatDataCount() == 0 && t.getInt64DataCount() == 0
        && t.getInt32DataCount() == 0 && t.getDoubleDataCount() == 0;
  }

  private static ByteString bytes(Function<String, ByteBuffer> data, String name) {
    ByteBuffer b = data.apply(name);
    return b == null ? null : ByteString.copyFrom(b.duplicate());
  }
}
