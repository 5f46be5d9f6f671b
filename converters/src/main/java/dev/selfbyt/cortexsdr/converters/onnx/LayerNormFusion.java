package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A residual {@code Add} followed by a layer normalization over the last axis, written as ONNX
 * Runtime's {@code com.microsoft.SkipLayerNormalization} in a quantized export. The layer
 * normalization may be the {@code LayerNormalization} operator or its usual decomposition
 * ({@code ReduceMean, Sub, Pow 2, ReduceMean, Add epsilon, Sqrt, Div, Mul gamma, Add beta}, as
 * PyTorch exports it below opset 17). ONNX Runtime fuses the same itself only when it knows both
 * operands' shapes, which it does not after a {@code Reshape} to a computed shape (every BERT
 * layer); its own {@code LayerNormalization} kernel then runs at about 3.5 times the time of
 * {@code SkipLayerNormalization} on the same input (measured in ONNX Runtime 1.29 on
 * all-MiniLM-L6-v2's int8 twin, 2 threads, batch 1 at 128 tokens: 13 {@code LayerNormalization}
 * 2.03 ms per run; the same file with all 13 fused by hand, 13 {@code SkipLayerNormalization}
 * 0.58 ms, the Adds included).
 *
 * <p>A pair is fused only where the operator cannot fail: both operands proven ({@link
 * SymbolicShapes}) to have the same shape of rank 2 or 3 at every run, the last dimension equal
 * to gamma's and beta's length, gamma and beta constant float or float16 vectors, the sum read by
 * the normalization alone (post-norm; a pre-norm model that also adds the sum to the next
 * residual keeps its graph), and no intermediate value a graph output.
 */
final class LayerNormFusion {
  private LayerNormFusion() {}

  /** One fusion: the Add of {@code a} and {@code b} through the normalization to {@code output}. */
  record Fusion(String a, String b, String gamma, String beta, float epsilon, String output, Set<String> removed) {}

  /**
   * The fusions in {@code g}.
   *
   * @param data the little-endian bytes of a small initializer or {@code Constant} output whose
   *     data the graph leaves out (a stored {@code .cai} graph keeps it in the archive), or null
   */
  static List<Fusion> plan(GraphProto g, Function<String, ByteBuffer> data) {
    if (data != null) {
      g = SymbolicShapes.withSmallData(g, data);
    }
    Map<String, List<NodeProto>> consumers = new HashMap<>();
    Map<String, NodeProto> producer = new HashMap<>();
    Map<String, TensorProto> initializers = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) {
      initializers.put(t.getName(), t);
    }
    for (NodeProto n : g.getNodeList()) {
      for (String i : n.getInputList()) {
        consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
      }
      for (String o : n.getOutputList()) {
        producer.put(o, n);
      }
    }
    Set<String> outputs = new HashSet<>();
    for (ValueInfoProto v : g.getOutputList()) {
      outputs.add(v.getName());
    }
    Matcher m = new Matcher(consumers, producer, initializers, outputs);
    SymbolicShapes shapes = new SymbolicShapes(g);
    List<Fusion> plan = new ArrayList<>();
    Set<String> used = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      Norm norm = n.getOpType().equals("LayerNormalization") && plain(n) ? m.operator(n)
          : n.getOpType().equals("ReduceMean") && plain(n) ? m.decomposed(n) : null;
      if (norm == null) {
        continue;
      }
      NodeProto add = producer.get(norm.input());
      if (add == null || !add.getOpType().equals("Add") || !plain(add) || add.getInputCount() != 2
          || outputs.contains(norm.input()) || initializers.containsKey(add.getInput(0))
          || initializers.containsKey(add.getInput(1)) || m.constant(add.getInput(0))
          || m.constant(add.getInput(1))) {
        continue;
      }
      Set<NodeProto> readers = new HashSet<>(consumers.getOrDefault(norm.input(), List.of()));
      if (!norm.inputReaders().containsAll(readers)) {
        continue; // pre-norm: the sum also goes on
      }
      List<String> shape = shapes.shape(add.getInput(0));
      if (!shapes.sameShape(add.getInput(0), add.getInput(1)) || shape.size() < 2 || shape.size() > 3
          || !SymbolicShapes.isNumber(shape.get(shape.size() - 1))
          || Long.parseLong(shape.get(shape.size() - 1)) != norm.width()) {
        continue;
      }
      Set<String> removed = new LinkedHashSet<>(norm.removed());
      removed.add(norm.input());
      if (removed.stream().anyMatch(used::contains)) {
        continue;
      }
      used.addAll(removed);
      plan.add(new Fusion(add.getInput(0), add.getInput(1), norm.gamma(), norm.beta(), norm.epsilon(), norm.output(),
          removed));
    }
    return plan;
  }

  /**
   * {@code g} with each planned fusion in place of its nodes (the fused node where the
   * normalization's last node was), and without the constants only those nodes read (epsilon, the
   * exponent 2); a fusion whose nodes are not all there is left out.
   *
   * @return the number of fusions written
   */
  static int apply(GraphProto.Builder g, List<Fusion> plan) {
    List<NodeProto> nodes = g.getNodeList();
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        producer.put(o, n);
      }
    }
    Map<NodeProto, NodeProto> replace = new HashMap<>();
    Set<NodeProto> drop = new HashSet<>();
    for (Fusion f : plan) {
      Set<NodeProto> mine = new HashSet<>();
      boolean whole = true;
      for (String r : f.removed()) {
        NodeProto p = producer.get(r);
        if (p == null || p.getOutputCount() != 1) {
          whole = false;
          break;
        }
        mine.add(p);
      }
      if (!whole) {
        continue;
      }
      NodeProto last = producer.get(f.output());
      NodeProto fused = NodeProto.newBuilder().setOpType("SkipLayerNormalization").setDomain("com.microsoft")
          .setName(last.getName().isEmpty() ? f.output() + "_skip_layer_norm" : last.getName() + "_skip_layer_norm")
          .addInput(f.a()).addInput(f.b()).addInput(f.gamma()).addInput(f.beta()).addOutput(f.output())
          .addAttribute(AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT)
              .setF(f.epsilon()))
          .build();
      mine.add(last);
      drop.addAll(mine);
      replace.put(last, fused);
    }
    if (replace.isEmpty()) {
      return 0;
    }
    Set<String> orphans = new HashSet<>();
    drop.forEach(n -> orphans.addAll(n.getInputList()));
    List<NodeProto> out = new ArrayList<>();
    Set<String> read = new HashSet<>();
    g.getOutputList().forEach(v -> read.add(v.getName()));
    for (NodeProto n : nodes) {
      NodeProto kept = replace.containsKey(n) ? replace.get(n) : drop.contains(n) ? null : n;
      if (kept != null) {
        out.add(kept);
        read.addAll(kept.getInputList());
      }
    }
    orphans.removeAll(read);
    out.removeIf(n -> n.getOpType().equals("Constant") && n.getOutputCount() == 1 && orphans.contains(n.getOutput(0)));
    List<TensorProto> initializers = new ArrayList<>(g.getInitializerList());
    initializers.removeIf(t -> orphans.contains(t.getName()));
    g.clearNode().addAllNode(out).clearInitializer().addAllInitializer(initializers);
    return replace.size();
  }

  /** A matched normalization of {@code input}: the nodes reading it, the values it removes. */
  private record Norm(String input, Set<NodeProto> inputReaders, String gamma, String beta, float epsilon,
      long width, String output, Set<String> removed) {}

  private static boolean plain(NodeProto n) {
    return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
  }

  private record Matcher(Map<String, List<NodeProto>> consumers, Map<String, NodeProto> producer,
      Map<String, TensorProto> initializers, Set<String> outputs) {

    /** The LayerNormalization operator over the last axis, one output, with gamma and beta. */
    Norm operator(NodeProto ln) {
      if (ln.getInputCount() != 3 || ln.getOutputCount() != 1 || OnnxAttributes.intAttr(ln, "axis", -1) != -1) {
        return null;
      }
      long width = vector(ln.getInput(1));
      if (width < 1 || vector(ln.getInput(2)) != width) {
        return null;
      }
      float eps = 1e-5f;
      for (AttributeProto a : ln.getAttributeList()) {
        if (a.getName().equals("epsilon")) {
          eps = a.getF();
        }
      }
      return new Norm(ln.getInput(0), Set.of(ln), ln.getInput(1), ln.getInput(2), eps, width, ln.getOutput(0),
          Set.of(ln.getOutput(0)));
    }

    /** {@code ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul gamma, Add beta} from {@code mean}. */
    Norm decomposed(NodeProto mean) {
      String x = mean.getInput(0);
      if (!lastAxis(mean)) {
        return null;
      }
      List<NodeProto> xs = consumers.getOrDefault(x, List.of());
      NodeProto sub = xs.stream().filter(n -> n.getOpType().equals("Sub")).findFirst().orElse(null);
      if (xs.size() != 2 || sub == null || !plain(sub) || !sub.getInput(0).equals(x)
          || !sub.getInput(1).equals(mean.getOutput(0)) || !only(mean.getOutput(0), sub)) {
        return null;
      }
      String d = sub.getOutput(0);
      List<NodeProto> ds = consumers.getOrDefault(d, List.of());
      NodeProto pow = ds.stream().filter(n -> n.getOpType().equals("Pow") && n.getInput(0).equals(d)
          && scalar(n.getInput(1), 2f)).findFirst().orElse(null);
      NodeProto div = ds.stream().filter(n -> n.getOpType().equals("Div") && n.getInput(0).equals(d))
          .findFirst().orElse(null);
      if (ds.size() != 2 || pow == null || div == null || !plain(pow) || !plain(div)) {
        return null;
      }
      NodeProto var = single(pow.getOutput(0), "ReduceMean");
      if (var == null || !lastAxis(var) || !var.getInput(0).equals(pow.getOutput(0))) {
        return null;
      }
      NodeProto addEps = single(var.getOutput(0), "Add");
      String epsName = addEps == null ? null : other(addEps, var.getOutput(0));
      float[] eps = epsName == null ? null : floats(epsName);
      NodeProto sqrt = addEps == null ? null : single(addEps.getOutput(0), "Sqrt");
      if (eps == null || eps.length != 1 || sqrt == null || !only(sqrt.getOutput(0), div)
          || !div.getInput(1).equals(sqrt.getOutput(0))) {
        return null;
      }
      NodeProto scale = single(div.getOutput(0), "Mul");
      String gamma = scale == null ? null : other(scale, div.getOutput(0));
      NodeProto shift = scale == null ? null : single(scale.getOutput(0), "Add");
      String beta = shift == null ? null : other(shift, scale.getOutput(0));
      long width = gamma == null || beta == null ? -1 : vector(gamma);
      if (width < 1 || vector(beta) != width) {
        return null;
      }
      Set<String> removed = new LinkedHashSet<>(List.of(mean.getOutput(0), d, pow.getOutput(0), var.getOutput(0),
          addEps.getOutput(0), sqrt.getOutput(0), div.getOutput(0), scale.getOutput(0), shift.getOutput(0)));
      for (String r : removed) {
        if (outputs.contains(r) && !r.equals(shift.getOutput(0))) {
          return null;
        }
      }
      return new Norm(x, Set.of(mean, sub), gamma, beta, eps[0], width, shift.getOutput(0), removed);
    }

    private boolean lastAxis(NodeProto reduce) {
      if (!plain(reduce) || OnnxAttributes.intAttr(reduce, "keepdims", 1) != 1 || reduce.getOutputCount() != 1) {
        return false;
      }
      for (AttributeProto a : reduce.getAttributeList()) {
        if (a.getName().equals("axes")) {
          return a.getIntsCount() == 1 && a.getInts(0) == -1;
        }
      }
      if (reduce.getInputCount() == 2) { // opset 18: axes as an input
        float[] v = floats(reduce.getInput(1));
        return v != null && v.length == 1 && v[0] == -1;
      }
      return false;
    }

    /** The only consumer of {@code value}, of type {@code op}, or null. */
    private NodeProto single(String value, String op) {
      List<NodeProto> c = consumers.getOrDefault(value, List.of());
      int inputs = op.equals("Sqrt") || op.equals("ReduceMean") ? c.isEmpty() ? 0 : c.get(0).getInputCount() : 2;
      return c.size() == 1 && c.get(0).getOpType().equals(op) && plain(c.get(0)) && c.get(0).getInputCount() == inputs
          && !outputs.contains(value) ? c.get(0) : null;
    }

    private boolean only(String value, NodeProto reader) {
      List<NodeProto> c = consumers.getOrDefault(value, List.of());
      return c.size() == 1 && c.get(0) == reader && !outputs.contains(value);
    }

    private static String other(NodeProto binary, String input) {
      return binary.getInput(0).equals(input) ? binary.getInput(1) : binary.getInput(1).equals(input)
          ? binary.getInput(0) : null;
    }

    boolean constant(String name) {
      NodeProto p = producer.get(name);
      return p != null && p.getOpType().equals("Constant");
    }

    /** The length of a constant float or float16 vector, or -1. */
    private long vector(String name) {
      TensorProto t = initializers.get(name);
      if (t == null && constant(name) && producer.get(name).getAttributeCount() == 1) {
        t = producer.get(name).getAttribute(0).getT();
      }
      if (t == null || t.getDimsCount() != 1 || t.getDataType() != TensorProto.DataType.FLOAT_VALUE
          && t.getDataType() != TensorProto.DataType.FLOAT16_VALUE) {
        return -1;
      }
      return t.getDims(0);
    }

    private boolean scalar(String name, float value) {
      float[] v = floats(name);
      return v != null && v.length == 1 && v[0] == value;
    }

    /** The values of a small constant (float, double or integer), or null. */
    private float[] floats(String name) {
      TensorProto t = initializers.get(name);
      if (t == null && constant(name) && producer.get(name).getAttributeCount() == 1) {
        t = producer.get(name).getAttribute(0).getT();
      }
      if (t == null) {
        return null;
      }
      long numel = 1;
      for (long d : t.getDimsList()) {
        numel *= d;
      }
      if (numel > 16) {
        return null;
      }
      return OnnxDTypes.smallFloats(t);
    }
  }
}
