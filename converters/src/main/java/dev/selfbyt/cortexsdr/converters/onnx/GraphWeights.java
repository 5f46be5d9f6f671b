package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Every weight of an ONNX graph at every depth: initializers and {@code Constant} values (strings
 * excepted) of the main graph and of the subgraphs held by node attributes ({@code If} branches,
 * {@code Loop} and {@code Scan} bodies, nested to any depth), each under the unique name a {@code
 * .cai} stores it by, with the uses its consumers give it.
 *
 * <p>Names: a main-graph weight keeps its own name. A subgraph weight is named by the path to it,
 * {@code <node>/<attribute>/<name>}, repeated for each level ({@code If_0/then_branch/W}, {@code
 * If_0/else_branch/Loop_3/body/W}); the node is named by its name, or {@code <op type>#<index>}
 * when it has none, and a {@code GRAPHS} attribute adds {@code [k]}. Two branches may hold weights
 * of the same name, so the path keeps them apart; if the path still collides with any name the
 * model uses, {@code ~2}, {@code ~3}... is appended. The names depend only on the graph, so the
 * reader, {@link StoredGraphCheck} and the exporters all find the same ones in a stored graph
 * (whose weights are stripped but whose structure is the source's).
 *
 * <p>Uses: a node input is resolved as ONNX scopes names: the innermost graph that defines the
 * name (a weight, a graph input or a node output) wins, so a node inside a branch that reads an
 * outer-scope weight gives that weight its role.
 */
public final class GraphWeights {
  /** Where a weight's tensor lives. */
  public enum Kind {
    /** An initializer of its graph. */
    INITIALIZER,
    /** The {@code value} attribute of a {@code Constant} node, named by the node's output. */
    CONSTANT
  }

  /**
   * One weight.
   *
   * @param name the unique name it is stored by in a {@code .cai}
   * @param local its name inside its own graph
   * @param tensor its tensor as the graph holds it
   * @param scope "" for the main graph, else the path of node, attribute and graph indices to its
   *     subgraph
   * @param index its initializer index, or the index of its {@code Constant} node
   * @param attr the index of the {@code Constant}'s {@code value} attribute (-1 for initializers)
   */
  public record Weight(String name, String local, TensorProto tensor, Kind kind, String scope, int index, int attr) {
    /** Whether it lives in the main graph. */
    public boolean topLevel() {
      return scope.isEmpty();
    }
  }

  /** Replaces weight tensors; null keeps a weight as it is. */
  @FunctionalInterface
  public interface TensorMapper {
    TensorProto map(Weight w) throws IOException;
  }

  private final String file;
  private final List<Weight> weights = new ArrayList<>();
  private final Map<String, Weight> byName = new LinkedHashMap<>();
  private final Map<String, List<Weight>> byScope = new HashMap<>();
  private final Map<String, Use> uses = new HashMap<>();
  private final Map<String, Use> mainUses = new HashMap<>();
  private final Map<String, List<NodeProto>> consumers = new HashMap<>();
  private final Set<String> taken;

  private GraphWeights(String file, GraphProto g) throws OnnxFormatException {
    this.file = file;
    this.taken = hasSubgraphs(g) ? allNames(g, new HashSet<>()) : Set.of();
    visit(g, "", "", null);
  }

  /**
   * Indexes the weights of {@code g}.
   *
   * @param file named in errors
   * @throws OnnxFormatException if one graph holds two weights of the same name
   */
  public static GraphWeights of(String file, GraphProto g) throws OnnxFormatException {
    return new GraphWeights(file, g);
  }

  /** The weights, main graph first (initializers, then {@code Constant}s), then each subgraph in node order. */
  public List<Weight> weights() {
    return Collections.unmodifiableList(weights);
  }

  /** The weight stored by {@code name}, or null. */
  public Weight get(String name) {
    return byName.get(name);
  }

  /** Whether some weight lives in a subgraph. */
  public boolean hasSubgraphWeights() {
    return weights.stream().anyMatch(w -> !w.topLevel());
  }

  /** The nodes, at any depth, that read weight {@code name} as an input. */
  public List<NodeProto> consumers(String name) {
    return consumers.getOrDefault(name, List.of());
  }

  /** How the weight's consumers use it (the strongest use wins). */
  Use use(String name) {
    return uses.getOrDefault(name, Use.OTHER);
  }

  /**
   * How the main graph's own nodes use the weight, ignoring subgraph nodes: the roles files
   * written before subgraph support gave (kept readable by {@link StoredGraphCheck}).
   */
  Use mainGraphUse(String name) {
    return mainUses.getOrDefault(name, Use.OTHER);
  }

  private void visit(GraphProto g, String prefix, String scope, Scope parent) throws OnnxFormatException {
    Scope s = new Scope(parent);
    List<Weight> here = new ArrayList<>();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getDataType() != TensorProto.DataType.STRING_VALUE) {
        here.add(add(s, prefix, t.getName(), t, Kind.INITIALIZER, scope, i, -1));
      }
    }
    for (int n = 0; n < g.getNodeCount(); n++) {
      NodeProto node = g.getNode(n);
      if (!isConstant(node)) {
        continue;
      }
      for (int a = 0; a < node.getAttributeCount(); a++) {
        AttributeProto attr = node.getAttribute(a);
        if (attr.getName().equals("value") && attr.hasT()
            && attr.getT().getDataType() != TensorProto.DataType.STRING_VALUE) {
          here.add(add(s, prefix, node.getOutput(0), attr.getT(), Kind.CONSTANT, scope, n, a));
        }
      }
    }
    if (!here.isEmpty()) {
      byScope.put(scope, here);
    }
    for (ValueInfoProto v : g.getInputList()) {
      s.other(v.getName());
    }
    for (NodeProto n : g.getNodeList()) {
      n.getOutputList().forEach(s::other);
    }
    for (int n = 0; n < g.getNodeCount(); n++) {
      NodeProto node = g.getNode(n);
      String op = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx") ? node.getOpType()
          : node.getDomain() + ":" + node.getOpType();
      for (int i = 0; i < node.getInputCount(); i++) {
        String w = s.resolve(node.getInput(i));
        if (w == null) {
          continue;
        }
        consumers.computeIfAbsent(w, k -> new ArrayList<>()).add(node);
        Use u = Use.of(op, i, node);
        if (u != Use.OTHER) {
          uses.merge(w, u, Use::stronger);
          if (scope.isEmpty()) {
            mainUses.merge(w, u, Use::stronger);
          }
        }
      }
      for (int a = 0; a < node.getAttributeCount(); a++) {
        AttributeProto attr = node.getAttribute(a);
        String at = prefix + label(node, n) + "/" + attr.getName();
        if (attr.hasG()) {
          visit(attr.getG(), at + "/", scope + n + ":" + a + ":-1/", s);
        }
        for (int k = 0; k < attr.getGraphsCount(); k++) {
          visit(attr.getGraphs(k), at + "[" + k + "]/", scope + n + ":" + a + ":" + k + "/", s);
        }
      }
    }
  }

  private Weight add(Scope s, String prefix, String local, TensorProto t, Kind kind, String scope, int index, int attr)
      throws OnnxFormatException {
    if (s.weights.containsKey(local)) {
      throw new OnnxFormatException(file, prefix + local, "two weights share this name");
    }
    String name = prefix.isEmpty() ? local : unique(prefix + local);
    Weight w = new Weight(name, local, t, kind, scope, index, attr);
    s.weights.put(local, name);
    weights.add(w);
    byName.put(name, w);
    return w;
  }

  private String unique(String candidate) {
    String name = candidate;
    for (int k = 2; taken.contains(name) || byName.containsKey(name); k++) {
      name = candidate + "~" + k;
    }
    taken.add(name);
    return name;
  }

  private static String label(NodeProto n, int index) {
    return n.getName().isEmpty() ? n.getOpType() + "#" + index : n.getName();
  }

  static boolean isConstant(NodeProto n) {
    return n.getOpType().equals("Constant") && n.getDomain().isEmpty() && n.getOutputCount() == 1;
  }

  private static boolean hasSubgraphs(GraphProto g) {
    for (NodeProto n : g.getNodeList()) {
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasG() || a.getGraphsCount() > 0) {
          return true;
        }
      }
    }
    return false;
  }

  /** Every name {@code g} uses at any depth: values, initializers, inputs and outputs. */
  private static Set<String> allNames(GraphProto g, Set<String> out) {
    g.getInputList().forEach(v -> out.add(v.getName()));
    g.getOutputList().forEach(v -> out.add(v.getName()));
    g.getInitializerList().forEach(t -> out.add(t.getName()));
    for (NodeProto n : g.getNodeList()) {
      out.addAll(n.getInputList());
      out.addAll(n.getOutputList());
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasG()) {
          allNames(a.getG(), out);
        }
        a.getGraphsList().forEach(sub -> allNames(sub, out));
      }
    }
    return out;
  }

  /** The names a graph defines, innermost first when resolving. */
  private static final class Scope {
    final Scope parent;
    final Map<String, String> weights = new HashMap<>();
    final Set<String> others = new HashSet<>();

    Scope(Scope parent) {
      this.parent = parent;
    }

    void other(String name) {
      if (!weights.containsKey(name)) {
        others.add(name);
      }
    }

    /** The stored name of the weight {@code name} refers to here, or null when it is no weight. */
    String resolve(String name) {
      for (Scope s = this; s != null; s = s.parent) {
        String w = s.weights.get(name);
        if (w != null) {
          return w;
        }
        if (s.others.contains(name)) {
          return null;
        }
      }
      return null;
    }
  }

  /**
   * {@code g} (the graph these weights were read from, or one of the same structure) with every
   * weight's tensor replaced by {@code f}'s answer, at every depth.
   */
  public GraphProto rebuild(GraphProto g, TensorMapper f) throws IOException {
    return rebuild(g, "", f);
  }

  private GraphProto rebuild(GraphProto g, String scope, TensorMapper f) throws IOException {
    GraphProto.Builder gb = null;
    for (Weight w : byScope.getOrDefault(scope, List.of())) {
      TensorProto t = f.map(w);
      if (t == null) {
        continue;
      }
      if (gb == null) {
        gb = g.toBuilder();
      }
      if (w.kind() == Kind.INITIALIZER) {
        gb.setInitializer(w.index(), t);
      } else {
        NodeProto node = gb.getNode(w.index());
        gb.setNode(w.index(), node.toBuilder().setAttribute(w.attr(), node.getAttribute(w.attr()).toBuilder().setT(t)));
      }
    }
    for (int n = 0; n < g.getNodeCount(); n++) {
      NodeProto node = g.getNode(n);
      NodeProto.Builder nb = null;
      for (int a = 0; a < node.getAttributeCount(); a++) {
        AttributeProto attr = node.getAttribute(a);
        if (!attr.hasG() && attr.getGraphsCount() == 0) {
          continue;
        }
        AttributeProto.Builder ab = attr.toBuilder();
        if (attr.hasG()) {
          ab.setG(rebuild(attr.getG(), scope + n + ":" + a + ":-1/", f));
        }
        for (int k = 0; k < attr.getGraphsCount(); k++) {
          ab.setGraphs(k, rebuild(attr.getGraphs(k), scope + n + ":" + a + ":" + k + "/", f));
        }
        if (nb == null) {
          nb = node.toBuilder();
        }
        nb.setAttribute(a, ab);
      }
      if (nb != null) {
        if (gb == null) {
          gb = g.toBuilder();
        }
        gb.setNode(n, nb);
      }
    }
    return gb == null ? g : gb.build();
  }

  /**
   * {@code g} with the subgraph weights {@code which} selects moved into the main graph as
   * initializers named by their stored names; every reference to one in its subgraph (and in
   * subgraphs nested in it) now reads the main-graph name, as ONNX lets a subgraph read
   * outer-scope values. A subgraph output that was such a weight becomes an {@code Identity} of
   * it. Runtimes that take weights only as main-graph initializers (ONNX Runtime's external
   * initializers) can then be given subgraph weights too; the model computes the same.
   *
   * @return the new graph; weights that are also an input of their own subgraph stay where they are
   */
  public GraphProto hoist(GraphProto g, Predicate<String> which) {
    Map<String, Map<String, String>> renames = new HashMap<>();
    Map<String, Set<Integer>> droppedInit = new HashMap<>();
    Map<String, Set<Integer>> droppedNodes = new HashMap<>();
    List<TensorProto> lifted = new ArrayList<>();
    for (Weight w : weights) {
      if (w.topLevel() || !which.test(w.name()) || isInputOf(g, w)) {
        continue;
      }
      renames.computeIfAbsent(w.scope(), k -> new HashMap<>()).put(w.local(), w.name());
      (w.kind() == Kind.INITIALIZER ? droppedInit : droppedNodes)
          .computeIfAbsent(w.scope(), k -> new HashSet<>()).add(w.index());
      lifted.add(w.tensor().toBuilder().setName(w.name()).build());
    }
    if (lifted.isEmpty()) {
      return g;
    }
    GraphProto out = hoisted(g, "", Map.of(), renames, droppedInit, droppedNodes);
    return out.toBuilder().addAllInitializer(lifted).build();
  }

  private boolean isInputOf(GraphProto main, Weight w) {
    GraphProto g = graphAt(main, w.scope());
    return g.getInputList().stream().anyMatch(v -> v.getName().equals(w.local()));
  }

  private static GraphProto graphAt(GraphProto main, String scope) {
    GraphProto g = main;
    for (String step : scope.split("/")) {
      if (step.isEmpty()) {
        continue;
      }
      String[] p = step.split(":");
      AttributeProto a = g.getNode(Integer.parseInt(p[0])).getAttribute(Integer.parseInt(p[1]));
      int k = Integer.parseInt(p[2]);
      g = k < 0 ? a.getG() : a.getGraphs(k);
    }
    return g;
  }

  private static GraphProto hoisted(GraphProto g, String scope, Map<String, String> inherited,
      Map<String, Map<String, String>> renames, Map<String, Set<Integer>> droppedInit,
      Map<String, Set<Integer>> droppedNodes) {
    Map<String, String> own = renames.getOrDefault(scope, Map.of());
    Map<String, String> rename = new HashMap<>(inherited);
    if (!rename.isEmpty()) {
      // a name this graph defines itself hides the outer one (ONNX forbids it, but be exact)
      g.getInputList().forEach(v -> rename.remove(v.getName()));
      g.getInitializerList().forEach(t -> rename.remove(t.getName()));
      g.getNodeList().forEach(n -> n.getOutputList().forEach(rename::remove));
    }
    rename.putAll(own);
    if (rename.isEmpty() && !hasSubgraphs(g)) {
      return g;
    }
    Set<Integer> initDrop = droppedInit.getOrDefault(scope, Set.of());
    Set<Integer> nodeDrop = droppedNodes.getOrDefault(scope, Set.of());
    GraphProto.Builder gb = g.toBuilder().clearInitializer().clearNode().clearValueInfo();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      if (!initDrop.contains(i)) {
        gb.addInitializer(g.getInitializer(i));
      }
    }
    // outputs that were a hoisted weight itself keep their name through an Identity
    for (ValueInfoProto o : g.getOutputList()) {
      String to = rename.get(o.getName());
      if (to != null) {
        gb.addNode(NodeProto.newBuilder().setOpType("Identity").setName(to + "_as_" + o.getName())
            .addInput(to).addOutput(o.getName()));
      }
    }
    for (int n = 0; n < g.getNodeCount(); n++) {
      if (nodeDrop.contains(n)) {
        continue;
      }
      NodeProto node = g.getNode(n);
      NodeProto.Builder nb = node.toBuilder();
      for (int i = 0; i < node.getInputCount(); i++) {
        String to = rename.get(node.getInput(i));
        if (to != null) {
          nb.setInput(i, to);
        }
      }
      for (int a = 0; a < node.getAttributeCount(); a++) {
        AttributeProto attr = node.getAttribute(a);
        if (attr.hasG()) {
          nb.setAttribute(a, nb.getAttribute(a).toBuilder().setG(hoisted(attr.getG(), scope + n + ":" + a + ":-1/",
              rename, renames, droppedInit, droppedNodes)));
        }
        for (int k = 0; k < attr.getGraphsCount(); k++) {
          nb.setAttribute(a, nb.getAttribute(a).toBuilder().setGraphs(k, hoisted(attr.getGraphs(k),
              scope + n + ":" + a + ":" + k + "/", rename, renames, droppedInit, droppedNodes)));
        }
      }
      gb.addNode(nb);
    }
    for (ValueInfoProto v : g.getValueInfoList()) {
      if (!rename.containsKey(v.getName())) { // a hoisted weight's type is its initializer's
        gb.addValueInfo(v);
      }
    }
    return gb.build();
  }

  /** How a node uses a weight: its role and where its reduction axis is. */
  enum Use {
    MATMUL_K(TensorRole.MATMUL_WEIGHT),
    GEMM_B(TensorRole.MATMUL_WEIGHT),
    GEMM_B_TRANSPOSED(TensorRole.MATMUL_WEIGHT),
    CONV(TensorRole.CONV_WEIGHT),
    CONV_TRANSPOSE(TensorRole.MATMUL_WEIGHT), // [in, out/g, k...]: sums over axis 0 alone
    GATHER(TensorRole.EMBEDDING),
    BIAS(TensorRole.BIAS),
    NORM(TensorRole.NORM),
    OTHER(TensorRole.OTHER);

    private final TensorRole role;

    Use(TensorRole role) {
      this.role = role;
    }

    TensorRole role() {
      return role;
    }

    /** The reduction axis for a weight of this rank. */
    int axis(int rank) {
      return switch (this) {
        case MATMUL_K -> Math.max(rank - 2, 0); // [..., K, N]
        case GEMM_B -> 0; // [K, N]
        case GEMM_B_TRANSPOSED -> Math.min(1, Math.max(rank - 1, 0)); // [N, K]
        case CONV -> Math.min(1, Math.max(rank - 1, 0)); // [out, in, k...]
        case CONV_TRANSPOSE -> 0; // [in, out/g, k...]
        default -> -1; // last axis
      };
    }

    /** Stronger uses win when a weight has several consumers. */
    private int priority() {
      return switch (this) {
        case OTHER -> 0;
        case BIAS, NORM -> 1;
        default -> 2;
      };
    }

    static Use stronger(Use a, Use b) {
      return b.priority() > a.priority() ? b : a;
    }

    /**
     * The use input {@code input} of node {@code n} makes of a weight. Recurrent weights ({@code
     * LSTM}, {@code GRU}, {@code RNN}: W {@code [dirs, gates*H, in]}, R {@code [dirs, gates*H, H]})
     * stay OTHER, whose axis is the last: the one each gate row is summed over, as the ops compute
     * {@code X W^T}.
     */
    static Use of(String op, int input, NodeProto n) {
      return switch (op) {
        case "MatMul" -> input == 1 ? MATMUL_K : OTHER;
        case "Gemm" -> input == 1 ? (intAttr(n, "transB", 0) != 0 ? GEMM_B_TRANSPOSED : GEMM_B)
            : input == 2 ? BIAS : OTHER;
        case "Conv" -> input == 1 ? CONV : input == 2 ? BIAS : OTHER;
        case "ConvTranspose" -> input == 1 ? CONV_TRANSPOSE : input == 2 ? BIAS : OTHER;
        case "Gather" -> input == 0 && intAttr(n, "axis", 0) == 0 ? GATHER : OTHER;
        case "LayerNormalization", "BatchNormalization", "InstanceNormalization", "GroupNormalization",
            "RMSNormalization", "com.microsoft:SkipLayerNormalization", "com.microsoft:SimplifiedLayerNormalization" ->
            input >= 1 ? NORM : OTHER;
        case "Add" -> BIAS; // only rank-1 weights matter here: larger ones are not biases
        default -> OTHER;
      };
    }

    private static long intAttr(NodeProto n, String name, long dflt) {
      for (AttributeProto a : n.getAttributeList()) {
        if (a.getName().equals(name)) {
          return a.getI();
        }
      }
      return dflt;
    }
  }
}
