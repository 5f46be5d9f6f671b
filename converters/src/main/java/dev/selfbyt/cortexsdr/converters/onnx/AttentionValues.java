package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The value projection behind an attention's context: where a value {@code A} is {@code
 * softmax(Q K^T) V} with the heads merged back, channel {@code c} of {@code A} is a weighted sum
 * over positions of column {@code c} of {@code V = x W + b} alone. Dividing that column of {@code
 * W} and entry of {@code b} by a factor divides the channel by it exactly, with no node in the
 * graph. {@link Int8FastCalibrator} folds the smoothing factors of an attention output projection's
 * input this way instead of a {@code Mul} on the context (one element-wise pass fewer per layer);
 * the value weight is quantized per output column, so its codes do not change either.
 *
 * <p>The chain is proven, never guessed: {@code A = Reshape(Transpose(MatMul(P, Transpose(
 * Reshape(V)))))} where the first {@code Reshape} splits only {@code V}'s last axis into {@code
 * (heads, head size)}, the transposes keep the head-size axis last and the heads on a batch axis of
 * the product, and the last {@code Reshape} merges exactly those two axes back ({@link
 * SymbolicShapes} proves every shape); {@code V} is a {@code MatMul} by a weight, plus a bias
 * vector or not; and no value on the way, nor the weight or bias, is read by anything else but
 * {@code Shape} (a graph output included), so the scaling reaches {@code A}'s readers only.
 */
final class AttentionValues {
  private final Map<String, NodeProto> producer = new HashMap<>();
  private final Map<String, List<NodeProto>> readers = new HashMap<>();
  private final Set<String> outputs = new HashSet<>();
  private final SymbolicShapes shapes;
  private final java.util.function.Predicate<String> isTensor;

  /**
   * The index of {@code g} the questions are answered from (built once per graph).
   *
   * @param isTensor whether a name is a stored tensor (weight or bias) rather than a computed value
   */
  AttentionValues(GraphProto g, java.util.function.Predicate<String> isTensor) {
    for (NodeProto n : g.getNodeList()) {
      n.getOutputList().forEach(o -> producer.put(o, n));
      for (String i : n.getInputList()) {
        readers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
      }
    }
    for (ValueInfoProto v : g.getOutputList()) {
      outputs.add(v.getName());
    }
    this.shapes = new SymbolicShapes(g);
    this.isTensor = isTensor;
  }

  /** The value projection: its weight ({@code [k, channels]}) and bias ({@code [channels]}, or null). */
  record Projection(String weight, String bias) {}

  /**
   * The value projection whose columns are {@code activation}'s channels, or null when that is
   * not proven.
   *
   * @param scaledReaders the weights of the MatMuls reading {@code activation} that expect it
   *     scaled; any other reader (but {@code Shape}) means no projection
   */
  Projection of(String activation, Set<String> scaledReaders) {
    NodeProto merge = node(activation, "Reshape");
    NodeProto back = merge == null ? null : node(merge.getInput(0), "Transpose");
    NodeProto product = back == null ? null : node(back.getInput(0), "MatMul");
    NodeProto heads = product == null ? null : node(product.getInput(1), "Transpose");
    NodeProto split = heads == null ? null : node(heads.getInput(0), "Reshape");
    if (split == null) {
      return null;
    }
    List<String> a = shapes.shape(activation);
    List<String> t = shapes.shape(merge.getInput(0));
    List<String> r = shapes.shape(split.getOutput(0));
    List<String> v = shapes.shape(split.getInput(0));
    if (a == null || t == null || r == null || v == null || t.size() < 3 || a.size() != t.size() - 1
        || r.size() != t.size() || v.size() != r.size() - 1 || shapes.shape(product.getInput(1)) == null
        || shapes.shape(product.getInput(1)).size() != r.size()) {
      return null;
    }
    int rank = r.size();
    // the split: V's last axis into (heads, head size), every other axis as it was
    long width = number(v.get(rank - 2));
    long h = number(r.get(rank - 1));
    long n = number(r.get(rank - 2));
    if (width < 1 || h < 1 || n < 1 || n * h != width || !same(v, r, rank - 2)) {
      return null;
    }
    // the transposes: head size last throughout, the heads on a batch axis of the product, and
    // back beside the head size (heads, head size) before the merge
    int[] in = perm(heads, rank);
    int[] out = perm(back, rank);
    if (in == null || out == null || in[rank - 1] != rank - 1 || out[rank - 1] != rank - 1) {
      return null;
    }
    int headAxis = -1;
    for (int i = 0; i < rank; i++) {
      if (in[i] == rank - 2) {
        headAxis = i;
      }
    }
    if (headAxis < 0 || headAxis >= rank - 2 || out[rank - 2] != headAxis) {
      return null;
    }
    // the merge: the last two axes, (heads, head size), into one of their product
    if (number(t.get(rank - 2)) != n || number(t.get(rank - 1)) != h || number(a.get(rank - 2)) != width
        || !same(a, t, rank - 2)) {
      return null;
    }
    // V = x W (+ b)
    String projected = split.getInput(0);
    NodeProto add = node(projected, "Add");
    NodeProto matmul;
    String bias = null;
    if (add != null && add.getInputCount() == 2) {
      NodeProto first = node(add.getInput(0), "MatMul");
      NodeProto second = node(add.getInput(1), "MatMul");
      matmul = first != null && isTensor.test(add.getInput(1)) ? first
          : second != null && isTensor.test(add.getInput(0)) ? second : null;
      bias = matmul == null ? null : add.getInput(matmul == first ? 1 : 0);
      List<String> b = bias == null ? null : shapes.shape(bias);
      if (matmul == null || b == null || b.size() != 1 || number(b.get(0)) != width) {
        return null;
      }
    } else {
      matmul = node(projected, "MatMul");
    }
    if (matmul == null || matmul.getInputCount() != 2 || !isTensor.test(matmul.getInput(1))) {
      return null;
    }
    String weight = matmul.getInput(1);
    List<String> w = shapes.shape(weight);
    if (w == null || w.size() != 2 || number(w.get(1)) != width) {
      return null;
    }
    // nothing else reads what the scaling changes
    List<String> chain = new ArrayList<>(List.of(matmul.getOutput(0), split.getOutput(0), heads.getOutput(0),
        product.getOutput(0), back.getOutput(0)));
    List<NodeProto> next = new ArrayList<>(List.of(split, heads, product, back, merge));
    if (bias != null) {
      chain.add(1, add.getOutput(0));
      next.add(0, add);
    }
    for (int i = 0; i < chain.size(); i++) {
      if (!onlyReadBy(chain.get(i), next.get(i))) {
        return null;
      }
    }
    if (outputs.contains(activation)) {
      return null;
    }
    for (NodeProto reader : readers.getOrDefault(activation, List.of())) {
      boolean scaled = reader.getOpType().equals("MatMul") && reader.getInputCount() == 2
          && reader.getInput(0).equals(activation) && scaledReaders.contains(reader.getInput(1));
      if (!scaled && !reader.getOpType().equals("Shape")) {
        return null; // a reader that expects the unscaled context
      }
    }
    if (!onlyReadBy(weight, matmul) || bias != null && !onlyReadBy(bias, add)) {
      return null;
    }
    return new Projection(weight, bias);
  }

  private NodeProto node(String value, String op) {
    NodeProto n = producer.get(value);
    return n != null && n.getOpType().equals(op) && (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))
        && n.getOutputCount() == 1 ? n : null;
  }

  /** Read by {@code reader} (and by {@code Shape} nodes, which the scaling does not change) only, not an output. */
  private boolean onlyReadBy(String value, NodeProto reader) {
    if (outputs.contains(value)) {
      return false;
    }
    boolean read = false;
    for (NodeProto n : readers.getOrDefault(value, List.of())) {
      if (n == reader) {
        read = true;
      } else if (!n.getOpType().equals("Shape")) {
        return false;
      }
    }
    return read;
  }

  /** The permutation of a Transpose of rank {@code rank} (reversed axes when it has none), or null. */
  private static int[] perm(NodeProto transpose, int rank) {
    int[] p = new int[rank];
    for (int i = 0; i < rank; i++) {
      p[i] = rank - 1 - i;
    }
    for (AttributeProto at : transpose.getAttributeList()) {
      if (at.getName().equals("perm")) {
        if (at.getIntsCount() != rank) {
          return null;
        }
        for (int i = 0; i < rank; i++) {
          p[i] = (int) at.getInts(i);
        }
      }
    }
    return p;
  }

  /** Whether the first {@code count} dimensions of two shapes are proven equal. */
  private static boolean same(List<String> x, List<String> y, int count) {
    for (int i = 0; i < count; i++) {
      if (x.get(i) == null || !x.get(i).equals(y.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static long number(String d) {
    return d != null && SymbolicShapes.isNumber(d) ? Long.parseLong(d) : -1;
  }
}
