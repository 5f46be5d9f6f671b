package dev.selfbyt.cortexsdr.tensorflow;

import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * What each checkpoint variable does in a SavedModel's graph, from the ops that read it: the
 * right-hand side of {@code MatMul} / {@code BatchMatMul} (reduction over K, {@code transpose_b}
 * and {@code adj_y} honoured), a {@code Conv2D} / {@code Conv3D} filter (TensorFlow's {@code [kh,
 * kw, in, out]} layout: quantized along the input channels, role {@link TensorRole#OTHER} since
 * {@link TensorRole#CONV_WEIGHT} means the {@code [out, in, kh, kw]} layout), the table of a {@code
 * Gather} (embedding), the bias of {@code BiasAdd}, the scale, offset and statistics of a fused
 * batch norm. Reads pass through {@code Identity}, {@code ReadVariableOp} and {@code Cast}.
 *
 * <p>Checkpoint keys are matched to variable ops through the graph's save op ({@code SaveV2}:
 * its {@code tensor_names} constant and the tensors it saves), so a key need not be the op's name;
 * a key with no such link and no op of its name keeps role {@link TensorRole#OTHER} (quantized
 * along its last axis by the policy). Never from names of layers.
 */
final class VariableRoles {
  /**
   * A variable's role, its reduction axis (-1 = last), the shape its op declares (or null), the op
   * that gave the role, and for the {@code [K, N]} right-hand side of a plain {@code MatMul} the
   * tensor it multiplies ({@code "relu:0"}), which calibration captures; else null.
   */
  record Use(TensorRole role, int axis, long[] declaredShape, String op, String activation) {
    static final Use UNKNOWN = new Use(TensorRole.OTHER, -1, null, null, null);

    Use(TensorRole role, int axis, long[] declaredShape, String op) {
      this(role, axis, declaredShape, op, null);
    }
  }

  private static final Set<String> VARIABLE_OPS = Set.of("VariableV2", "Variable", "VarHandleOp");
  private static final Set<String> PASS_THROUGH = Set.of("Identity", "ReadVariableOp", "Cast", "Enter",
      "IdentityN", "Snapshot");

  private final Map<String, NodeDef> nodes = new HashMap<>();
  /** node name -> (consumer, input position) of its data outputs. */
  private final Map<String, List<Map.Entry<NodeDef, Integer>>> consumers = new HashMap<>();

  private VariableRoles(GraphDef graph) {
    for (NodeDef n : graph.getNodeList()) {
      nodes.put(n.getName(), n);
    }
    for (NodeDef n : graph.getNodeList()) {
      int pos = 0;
      for (String in : n.getInputList()) {
        if (in.startsWith("^")) {
          continue;
        }
        consumers.computeIfAbsent(source(in), k -> new ArrayList<>()).add(Map.entry(n, pos));
        pos++;
      }
    }
  }

  /** The use of each checkpoint key found in {@code graph}; keys without one are absent. */
  static Map<String, Use> of(GraphDef graph, Set<String> keys) {
    VariableRoles r = new VariableRoles(graph);
    Map<String, String> keyToVariable = r.savedVariables();
    Map<String, Use> out = new HashMap<>();
    for (String key : keys) {
      String var = keyToVariable.get(key);
      if (var == null && r.nodes.containsKey(key) && VARIABLE_OPS.contains(r.nodes.get(key).getOp())) {
        var = key;
      }
      if (var != null) {
        out.put(key, r.use(r.nodes.get(var)));
      }
    }
    return out;
  }

  /** Checkpoint key -> variable op, from every {@code SaveV2} node's names and inputs. */
  private Map<String, String> savedVariables() {
    Map<String, String> out = new HashMap<>();
    for (NodeDef n : nodes.values()) {
      if (!n.getOp().equals("SaveV2") || n.getInputCount() < 3) {
        continue;
      }
      NodeDef names = nodes.get(source(n.getInput(1)));
      if (names == null || !names.getOp().equals("Const")) {
        continue;
      }
      var strings = names.getAttrOrThrow("value").getTensor().getStringValList();
      List<String> data = new ArrayList<>();
      for (String in : n.getInputList()) {
        if (!in.startsWith("^")) {
          data.add(in);
        }
      }
      for (int i = 0; i < strings.size() && i + 3 < data.size(); i++) {
        NodeDef v = variableBehind(source(data.get(i + 3)));
        if (v != null) {
          out.putIfAbsent(strings.get(i).toStringUtf8(), v.getName());
        }
      }
    }
    return out;
  }

  /** The variable op a tensor comes from through pass-through ops, or null. */
  private NodeDef variableBehind(String name) {
    for (int hops = 0; hops < 16; hops++) {
      NodeDef n = nodes.get(name);
      if (n == null) {
        return null;
      }
      if (VARIABLE_OPS.contains(n.getOp())) {
        return n;
      }
      if (!PASS_THROUGH.contains(n.getOp()) || n.getInputCount() == 0) {
        return null;
      }
      name = source(n.getInput(0));
    }
    return null;
  }

  private Use use(NodeDef variable) {
    long[] shape = declaredShape(variable);
    int rank = shape == null ? -1 : shape.length;
    Use best = new Use(TensorRole.OTHER, -1, shape, null);
    int bestRank = Integer.MAX_VALUE;
    Deque<String> todo = new ArrayDeque<>(List.of(variable.getName()));
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      String name = todo.pop();
      if (!seen.add(name)) {
        continue;
      }
      for (Map.Entry<NodeDef, Integer> c : consumers.getOrDefault(name, List.of())) {
        NodeDef n = c.getKey();
        int pos = c.getValue();
        if (PASS_THROUGH.contains(n.getOp()) && pos == 0) {
          todo.push(n.getName());
          continue;
        }
        Use u = use(n, pos, rank, shape);
        // when a variable has several uses, the one that constrains quantization most wins
        int order = u == null ? Integer.MAX_VALUE : u.role().ordinal();
        if (u != null && order < bestRank) {
          best = u;
          bestRank = order;
        }
      }
    }
    return best;
  }

  private static Use use(NodeDef n, int pos, int rank, long[] shape) {
    String op = n.getOp();
    switch (op) {
      case "MatMul" -> {
        if (pos == 1) {
          boolean t = flag(n, "transpose_b");
          String activation = t || flag(n, "transpose_a") ? null : dataInputs(n).get(0);
          return new Use(TensorRole.MATMUL_WEIGHT, t ? 1 : 0, shape, op, activation);
        }
        if (pos == 0) { // a weight on the left, [M, K]: the sum runs over its columns
          return new Use(TensorRole.MATMUL_WEIGHT, flag(n, "transpose_a") ? 0 : 1, shape, op);
        }
      }
      case "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3" -> {
        if (pos == 1 && rank >= 2) {
          return new Use(TensorRole.MATMUL_WEIGHT, flag(n, "adj_y") ? rank - 1 : rank - 2, shape, op);
        }
      }
      case "Conv2D", "Conv3D" -> {
        if (pos == 1 && rank >= 3) {
          return new Use(TensorRole.OTHER, rank - 2, shape, op);
        }
      }
      case "Gather", "GatherV2", "ResourceGather" -> {
        if (pos == 0) {
          return new Use(TensorRole.EMBEDDING, -1, shape, op);
        }
      }
      case "BiasAdd", "BiasAddV1" -> {
        if (pos == 1) {
          return new Use(TensorRole.BIAS, -1, shape, op);
        }
      }
      case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3" -> {
        if (pos >= 1 && pos <= 4) {
          return new Use(TensorRole.NORM, -1, shape, op);
        }
      }
      default -> {
        return null;
      }
    }
    return null;
  }

  private static List<String> dataInputs(NodeDef n) {
    List<String> out = new ArrayList<>();
    for (String in : n.getInputList()) {
      if (!in.startsWith("^")) {
        out.add(in.contains(":") ? in : in + ":0");
      }
    }
    return out;
  }

  private static boolean flag(NodeDef n, String attr) {
    AttrValue a = n.getAttrOrDefault(attr, null);
    return a != null && a.getB();
  }

  /** The shape attribute of a variable op, or null when absent or not fully known. */
  private static long[] declaredShape(NodeDef v) {
    AttrValue a = v.getAttrOrDefault("shape", null);
    if (a == null || !a.hasShape() || a.getShape().getUnknownRank()) {
      return null;
    }
    TensorShapeProto s = a.getShape();
    long[] out = new long[s.getDimCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = s.getDim(i).getSize();
      if (out[i] < 0) {
        return null;
      }
    }
    return out;
  }

  /** "name:1" and "name" -> "name". */
  private static String source(String input) {
    int colon = input.lastIndexOf(':');
    return colon > 0 && input.substring(colon + 1).chars().allMatch(Character::isDigit)
        ? input.substring(0, colon) : input;
  }
}
