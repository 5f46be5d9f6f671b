package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites chains of small ONNX nodes into one fused node each before the executor compiles the
 * graph, as ONNX Runtime's graph optimizer does, so a chain runs as one pass over its data instead
 * of one pass and one allocation per node. The patterns are the standard exported forms, matched
 * on operator types and constant values only (never on names); a chain whose intermediate values
 * are read anywhere else, or are graph outputs, is left alone. Fused nodes live in the private
 * domain {@value #DOMAIN} and compute the same function:
 *
 * <ul>
 *   <li>{@code Gelu(x)}: {@code x * 0.5 * (1 + Erf(x / sqrt(2)))} in its usual orders (and with
 *       {@code Mul(x, 1/sqrt(2))}).
 *   <li>{@code LayerNorm(x, gamma?, beta?, skip?; epsilon)}: {@code ReduceMean(x, -1)}, {@code Sub},
 *       {@code Pow(., 2)}, {@code ReduceMean(-1)}, {@code Add(eps)}, {@code Sqrt}, {@code Div}, then an
 *       optional {@code Mul} by a constant and {@code Add} of a constant; when {@code x} is an {@code
 *       Add} of two computed values read by nothing else (a residual connection), that sum is made
 *       in the same pass ({@code skip}, ONNX Runtime's SkipLayerNormalization).
 *   <li>{@code MatMulBias(x, W, b, scale?; gelu?)}: {@code MatMul(x, W)} with a constant 2-D {@code
 *       W} followed by {@code Add} of a constant vector {@code b} (either operand order): the bias is
 *       added by the GEMM while its tile is in cache; with {@code gelu=1} the GELU that reads it
 *       alone (and its smoothing scale) runs in place on the product.
 *   <li>{@code ScaledMaskedSoftmax(s, mask?; scale, axis)}: {@code Softmax(Add(Div(s, c), mask))}
 *       (or {@code Mul(s, c)}, or no scaling): one pass per row.
 *   <li>{@code Attention(q, k, v, mask?; scale)}: multi-head attention as BERT-style models export
 *       it, {@code Transpose(MatMul(softmax(MatMul(Q, K^T) * scale + mask), V), 0,2,1,3)} with
 *       {@code Q}, {@code K}, {@code V} the {@code [batch, seq, heads, dim]} values before their
 *       transposes: computed per (batch, head) on the engine threads, reading the operands in place
 *       ({@link FusedAttention}); no transposed copy and no full score tensor is made.
 * </ul>
 *
 * <p>Then a {@code Mul} by a constant vector (the smoothing of a W8A8 export) is folded into the
 * fused {@code LayerNorm}, {@code Gelu} or {@code Attention} (with its {@code Reshape}) that
 * produces its operand: {@code LayerNorm(x, gamma, beta, skip, scale)} gives {@code y} and {@code y
 * * scale} (the second output, or the only one when {@code y} has no other reader), so does
 * {@code Gelu(x, scale)}, and {@code Attention(q, k, v, mask, shape, scale)} gives the scaled
 * output (with no {@code shape}, when {@code Shape} nodes also read the attention's output, the
 * scale goes by flat index modulo its length, which the {@code Reshape} after it, ending in that
 * constant, makes the Mul's).
 *
 * <p>Last, {@code MatMulBias} nodes that read the same activation (the query, key and value
 * projections) are grouped into one {@code MatMulGroup(x, W1, b1, W2, b2, ...)} with one output
 * per product, run as one job (one quantization of {@code x} for int8 activations), and a {@code
 * MatMulBias} whose output is added to a product with a constant weight takes that product in
 * ({@code plus=1}, {@link #productSums}).
 */
final class Fusion {
  static final String DOMAIN = "dev.selfbyt.cortexsdr.fused";

  /** Looks up a constant (initializer or {@code Constant} output) by name; null when not constant. */
  interface Constants {
    Value get(String name);
  }

  private final List<NodeProto> nodes;
  private final Constants constants;
  private final Set<String> graphOutputs;
  private final Map<String, NodeProto> producer = new HashMap<>();
  private final Map<String, List<NodeProto>> consumers = new HashMap<>();
  private final Map<NodeProto, Boolean> removed = new IdentityHashMap<>();
  /** Fused node to insert in place of the last node of its chain. */
  private final Map<NodeProto, NodeProto> replacement = new IdentityHashMap<>();

  private Fusion(List<NodeProto> nodes, Constants constants, Set<String> graphOutputs) {
    this.nodes = nodes;
    this.constants = constants;
    this.graphOutputs = graphOutputs;
    for (NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        producer.put(o, n);
      }
      for (String i : n.getInputList()) {
        if (!i.isEmpty()) {
          List<NodeProto> c = consumers.computeIfAbsent(i, k -> new ArrayList<>());
          if (!c.contains(n)) {
            c.add(n);
          }
        }
      }
    }
  }

  /** {@code nodes} with every chain this class knows replaced by its fused node. */
  static List<NodeProto> fuse(List<NodeProto> nodes, Constants constants, Set<String> graphOutputs) {
    Fusion f = new Fusion(nodes, constants, graphOutputs);
    for (NodeProto n : nodes) {
      if (f.removed.containsKey(n) || !n.getDomain().isEmpty()) {
        continue;
      }
      switch (n.getOpType()) {
        case "Erf" -> f.gelu(n);
        case "ReduceMean" -> f.layerNorm(n);
        case "Softmax" -> {
          if (!f.attention(n)) {
            f.softmax(n);
          }
        }
        default -> {
        }
      }
    }
    // bias fusion last: the chains above may end in a MatMul's input, never consume its output
    for (NodeProto n : nodes) {
      if (!f.removed.containsKey(n) && n.getDomain().isEmpty() && n.getOpType().equals("MatMul")) {
        f.matMulBias(n);
      }
    }
    if (f.replacement.isEmpty()) {
      return nodes;
    }
    List<NodeProto> out = new ArrayList<>(nodes.size());
    for (NodeProto n : nodes) {
      NodeProto r = f.replacement.get(n);
      if (r != null) {
        out.add(r);
      } else if (!f.removed.containsKey(n)) {
        out.add(n);
      }
    }
    return productSums(groupProducts(geluAfterBias(foldScales(out, constants, graphOutputs), graphOutputs),
        constants), constants, graphOutputs);
  }

  /**
   * {@code Add(MatMulBias(x, W, b, ...), MatMul(g, R))} with a constant 2-D {@code R}, each product
   * read by nothing but the {@code Add}, becomes {@code MatMulBias(x, W, b, scale?, g, R)} with
   * {@code plus=1}: the second product is added into the first one's output row by row while it
   * is in cache, with no tensor of its own and no pass of the {@code Add}. A smoothed int8 export
   * writes this where it keeps a few outlier channels of a MatMul's input in fp32 ({@code g} their
   * values, {@code R} their rows of the weight).
   */
  private static List<NodeProto> productSums(List<NodeProto> nodes, Constants constants, Set<String> graphOutputs) {
    Links links = Links.of(nodes);
    Map<String, NodeProto> producer = links.producer();
    Map<String, Integer> readers = links.readers();
    Map<NodeProto, NodeProto> rewritten = new IdentityHashMap<>();
    Map<NodeProto, Boolean> dropped = new IdentityHashMap<>();
    for (NodeProto add : nodes) {
      if (!add.getDomain().isEmpty() || !add.getOpType().equals("Add") || add.getInputCount() != 2
          || add.getInput(0).equals(add.getInput(1))) {
        continue;
      }
      for (int i = 0; i < 2; i++) {
        NodeProto mm = producer.get(add.getInput(i));
        NodeProto side = producer.get(add.getInput(1 - i));
        if (mm == null || side == null || !mm.getDomain().equals(DOMAIN) || !mm.getOpType().equals("MatMulBias")
            || mm.getOutputCount() != 1 || mm.getInputCount() > 4 // a plus=1 node has 6 inputs
            || !side.getDomain().isEmpty() || !side.getOpType().equals("MatMul") || side.getInputCount() != 2
            || dropped.containsKey(mm) || dropped.containsKey(side)) {
          continue;
        }
        Value r = constants.get(side.getInput(1));
        if (r == null || !r.isFloating() || r.rank() != 2 || constants.get(side.getInput(0)) != null
            || readers.getOrDefault(mm.getOutput(0), 0) != 1 || readers.getOrDefault(side.getOutput(0), 0) != 1
            || graphOutputs.contains(mm.getOutput(0)) || graphOutputs.contains(side.getOutput(0))) {
          continue;
        }
        NodeProto.Builder b = mm.toBuilder().setOutput(0, add.getOutput(0)).addAttribute(intAttr("plus", 1));
        while (b.getInputCount() < 4) {
          b.addInput("");
        }
        b.addInput(side.getInput(0)).addInput(side.getInput(1));
        rewritten.put(add, b.build()); // where the Add was: g and every input of the product are ready there
        dropped.put(mm, Boolean.TRUE);
        dropped.put(side, Boolean.TRUE);
        break;
      }
    }
    return edited(nodes, rewritten, dropped);
  }

  /**
   * {@code MatMulBias} nodes (no epilogue) reading the same activation with constant weights of
   * the same depth, as the query, key and value projections of an attention layer, become one
   * {@code MatMulGroup(x, W1, b1, W2, b2, ...)} with their outputs, in place of the first of them
   * (its inputs are ready there): the products then run as one job, and int8 activations are
   * quantized once for all of them ({@link ProductOps#matMulGroup}). The same products, so the
   * same results.
   */
  private static List<NodeProto> groupProducts(List<NodeProto> nodes, Constants constants) {
    Map<String, List<NodeProto>> byInput = new HashMap<>();
    for (NodeProto n : nodes) {
      if (n.getDomain().equals(DOMAIN) && n.getOpType().equals("MatMulBias") && n.getInputCount() == 3
          && n.getAttributeCount() == 0 && constants.get(n.getInput(1)) != null) {
        byInput.computeIfAbsent(n.getInput(0), k -> new ArrayList<>()).add(n);
      }
    }
    Map<NodeProto, NodeProto> first = new IdentityHashMap<>();
    Map<NodeProto, Boolean> dropped = new IdentityHashMap<>();
    for (List<NodeProto> group : byInput.values()) {
      long depth = constants.get(group.get(0).getInput(1)).dim(0);
      List<NodeProto> same = new ArrayList<>();
      for (NodeProto n : group) {
        if (constants.get(n.getInput(1)).dim(0) == depth) {
          same.add(n);
        }
      }
      if (same.size() < 2) {
        continue;
      }
      NodeProto.Builder b = node("MatMulGroup", same.get(0).getName() + "/group").addInput(same.get(0).getInput(0));
      for (NodeProto n : same) {
        b.addInput(n.getInput(1)).addInput(n.getInput(2)).addOutput(n.getOutput(0));
        dropped.put(n, Boolean.TRUE);
      }
      first.put(same.get(0), b.build());
    }
    return edited(nodes, first, dropped);
  }

  /** True when every node of {@code readers} but {@code except} is a {@code Shape} (which reads no values). */
  private static boolean onlyShapesBesides(List<NodeProto> readers, NodeProto except) {
    if (readers == null) {
      return false;
    }
    for (NodeProto r : readers) {
      if (r != except && !(r.getDomain().isEmpty() && r.getOpType().equals("Shape"))) {
        return false;
      }
    }
    return true;
  }

  /**
   * True when the Reshape target {@code shape} ends in the constant {@code len}: a constant
   * target, or a {@code Concat} (axis 0) whose last operand is the one-element constant {@code len}.
   */
  private static boolean lastDimIs(String shape, int len, Map<String, NodeProto> producer, Constants constants) {
    Value c = constants.get(shape);
    if (c == null) {
      NodeProto cat = producer.get(shape);
      if (cat == null || !cat.getDomain().isEmpty() || !cat.getOpType().equals("Concat")
          || new Attrs(cat).i("axis", 0) != 0 || cat.getInputCount() == 0) {
        return false;
      }
      Value last = constants.get(cat.getInput(cat.getInputCount() - 1));
      return last != null && !last.isFloating() && last.size() == 1 && last.longs()[0] == len;
    }
    long[] v = c.isFloating() ? null : c.longs();
    return v != null && v.length > 0 && v[v.length - 1] == len;
  }

  /**
   * A fused {@code Gelu} (scaled or not) whose input is a {@code MatMulBias} output read by nothing
   * else becomes that node's epilogue ({@code MatMulBias} with {@code gelu=1}, the scale as a fourth
   * input, and its scaled copy as a second output when it has one): the activation runs in place
   * on the product, with no tensor of its own.
   */
  private static List<NodeProto> geluAfterBias(List<NodeProto> nodes, Set<String> graphOutputs) {
    Links links = Links.of(nodes);
    Map<String, NodeProto> producer = links.producer();
    Map<String, Integer> readers = links.readers();
    Map<NodeProto, NodeProto> rewritten = new IdentityHashMap<>();
    Map<NodeProto, Boolean> dropped = new IdentityHashMap<>();
    for (NodeProto g : nodes) {
      if (!g.getDomain().equals(DOMAIN) || !g.getOpType().equals("Gelu")) {
        continue;
      }
      String x = g.getInput(0);
      NodeProto mm = producer.get(x);
      if (mm == null || !mm.getDomain().equals(DOMAIN) || !mm.getOpType().equals("MatMulBias")
          || mm.getInputCount() != 3 || readers.getOrDefault(x, 0) != 1 || graphOutputs.contains(x)) {
        continue;
      }
      NodeProto.Builder b = mm.toBuilder().setOutput(0, g.getOutput(0)).addAttribute(intAttr("gelu", 1));
      if (g.getInputCount() > 1) {
        b.addInput(g.getInput(1));
      }
      if (g.getOutputCount() > 1) {
        b.addOutput(g.getOutput(1)); // the scaled copy beside the plain output
      }
      rewritten.put(mm, b.build());
      dropped.put(g, Boolean.TRUE);
    }
    return edited(nodes, rewritten, dropped);
  }

  /**
   * The per-channel {@code Mul} by a constant vector that a smoothed (SmoothQuant) export puts
   * before an int8 MatMul, folded into the fused node whose output it scales, so it costs no pass
   * and no tensor of its own: a {@code LayerNorm} gains the scaled copy as a second output (its
   * plain output still feeds the residual path), a {@code Gelu} likewise (one output, scaled, when
   * the {@code Mul} is its only reader), an {@code Attention} followed by its {@code Reshape} takes
   * the reshape and the scale in. The products are the {@code Mul}'s own (each value rounded to
   * float, then multiplied), so results do not change.
   */
  private static List<NodeProto> foldScales(List<NodeProto> nodes, Constants constants, Set<String> graphOutputs) {
    Links links = Links.of(nodes);
    Map<String, NodeProto> producer = links.producer();
    Map<String, Integer> readers = links.readers();
    Map<String, List<NodeProto>> readerNodes = links.readerNodes();
    Map<NodeProto, NodeProto> rewritten = new IdentityHashMap<>();
    Map<NodeProto, Boolean> dropped = new IdentityHashMap<>();
    for (NodeProto mul : nodes) {
      if (!mul.getDomain().isEmpty() || !mul.getOpType().equals("Mul") || mul.getInput(0).equals(mul.getInput(1))) {
        continue;
      }
      for (int i = 0; i < 2; i++) {
        String y = mul.getInput(i);
        String scale = mul.getInput(1 - i);
        Value sv = constants.get(scale);
        NodeProto p = producer.get(y);
        if (sv == null || !sv.isFloating() || sv.isCompressed() || sv.rank() != 1 || p == null
            || graphOutputs.contains(y) || rewritten.containsKey(p) || dropped.containsKey(p)) {
          continue;
        }
        boolean sole = readers.getOrDefault(y, 0) == 1;
        NodeProto.Builder b = null;
        NodeProto reshape = null;
        if (p.getDomain().equals(DOMAIN) && p.getOpType().equals("Gelu") && p.getInputCount() == 1) {
          // read by others too (the outlier channels split off a smoothed product): the plain
          // output stays, the scaled copy is written in the same pass
          b = p.toBuilder().addInput(scale);
          if (sole) {
            b.setOutput(0, mul.getOutput(0));
          } else {
            b.addOutput(mul.getOutput(0));
          }
        } else if (p.getDomain().equals(DOMAIN) && p.getOpType().equals("LayerNorm") && p.getOutputCount() == 1) {
          b = p.toBuilder();
          while (b.getInputCount() < 4) {
            b.addInput("");
          }
          b.addInput(scale);
          if (sole) {
            b.setOutput(0, mul.getOutput(0));
          } else {
            b.addOutput(mul.getOutput(0));
          }
        } else if (p.getDomain().isEmpty() && p.getOpType().equals("Reshape") && sole
            && new Attrs(p).i("allowzero", 0) == 0) {
          NodeProto att = producer.get(p.getInput(0));
          if (att != null && att.getDomain().equals(DOMAIN) && att.getOpType().equals("Attention")
              && att.getInputCount() == 4 && readers.getOrDefault(p.getInput(0), 0) == 1
              && !graphOutputs.contains(p.getInput(0)) && !rewritten.containsKey(att)) {
            reshape = p;
            p = att;
            b = att.toBuilder().addInput(reshape.getInput(1)).addInput(scale).setOutput(0, mul.getOutput(0));
          } else if (att != null && att.getDomain().equals(DOMAIN) && att.getOpType().equals("Attention")
              && att.getInputCount() == 4 && !graphOutputs.contains(p.getInput(0)) && !rewritten.containsKey(att)
              && !rewritten.containsKey(p) && onlyShapesBesides(readerNodes.get(p.getInput(0)), p)
              && lastDimIs(p.getInput(1), sv.size(), producer, constants)) {
            // as BERT exports it: Shape nodes read the attention's output to make the Reshape's
            // target, whose last dimension is a constant, the scale's length; the Reshape keeps
            // the flat order, so scaling the attention's output by flat index modulo that length
            // is the Mul after the Reshape
            rewritten.put(att, att.toBuilder().addInput("").addInput(scale).build());
            rewritten.put(p, p.toBuilder().setOutput(0, mul.getOutput(0)).build());
            dropped.put(mul, Boolean.TRUE);
            break;
          }
        }
        if (b != null) {
          rewritten.put(p, b.build());
          dropped.put(mul, Boolean.TRUE);
          if (reshape != null) {
            dropped.put(reshape, Boolean.TRUE);
          }
          break;
        }
      }
    }
    return edited(nodes, rewritten, dropped);
  }

  // ---- helpers ----

  /** Over a list of nodes: the node that produces each value, and the nodes that read it (and how many). */
  private record Links(Map<String, NodeProto> producer, Map<String, Integer> readers,
      Map<String, List<NodeProto>> readerNodes) {
    static Links of(List<NodeProto> nodes) {
      Map<String, NodeProto> producer = new HashMap<>();
      Map<String, Integer> readers = new HashMap<>();
      Map<String, List<NodeProto>> readerNodes = new HashMap<>();
      for (NodeProto n : nodes) {
        n.getOutputList().forEach(o -> producer.put(o, n));
        n.getInputList().stream().distinct().forEach(i -> {
          readers.merge(i, 1, Integer::sum);
          readerNodes.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
        });
      }
      return new Links(producer, readers, readerNodes);
    }
  }

  /**
   * {@code nodes} in order with each node of {@code rewritten} replaced by its rewrite and those
   * of {@code dropped} (not rewritten) left out; {@code nodes} itself when a pass changed nothing.
   */
  private static List<NodeProto> edited(List<NodeProto> nodes, Map<NodeProto, NodeProto> rewritten,
      Map<NodeProto, Boolean> dropped) {
    if (rewritten.isEmpty() && dropped.isEmpty()) {
      return nodes;
    }
    List<NodeProto> out = new ArrayList<>(nodes.size());
    for (NodeProto n : nodes) {
      NodeProto r = rewritten.get(n);
      if (r != null) {
        out.add(r);
      } else if (!dropped.containsKey(n)) {
        out.add(n);
      }
    }
    return out;
  }

  /** The one node reading {@code name}, when exactly one does and it is not a graph output. */
  private NodeProto soleConsumer(String name, String opType) {
    List<NodeProto> c = consumers.getOrDefault(name, Collections.emptyList());
    if (c.size() != 1 || graphOutputs.contains(name)) {
      return null;
    }
    NodeProto n = c.get(0);
    return n.getDomain().isEmpty() && n.getOpType().equals(opType) && !removed.containsKey(n) ? n : null;
  }

  private boolean onlyReadBy(String name, NodeProto reader) {
    List<NodeProto> c = consumers.getOrDefault(name, Collections.emptyList());
    return c.size() == 1 && c.get(0) == reader && !graphOutputs.contains(name);
  }

  private NodeProto producedBy(String name, String opType) {
    NodeProto n = producer.get(name);
    return n != null && n.getDomain().isEmpty() && n.getOpType().equals(opType) && !removed.containsKey(n) ? n
        : null;
  }

  /** The single float of a constant scalar (any shape of one element), or NaN. */
  private float scalar(String name) {
    Value v = constants.get(name);
    if (v == null || !v.isFloating() || v.isCompressed() || v.size() != 1) {
      return Float.NaN;
    }
    return v.floats()[0];
  }

  private static boolean near(float v, double target) {
    return Math.abs(v - target) <= 1e-4 * Math.max(1, Math.abs(target));
  }

  /** The input of binary node {@code n} other than {@code name}, or null when neither is it. */
  private static String other(NodeProto n, String name) {
    if (n.getInput(0).equals(name)) {
      return n.getInput(1);
    }
    return n.getInput(1).equals(name) ? n.getInput(0) : null;
  }

  /** The index (0 or 1) of a binary node's input that is a constant scalar near {@code target}, or -1. */
  private int constantOperand(NodeProto n, double target) {
    for (int i = 0; i < 2; i++) {
      if (near(scalar(n.getInput(i)), target)) {
        return i;
      }
    }
    return -1;
  }

  private void replace(List<NodeProto> chain, NodeProto fused) {
    for (NodeProto n : chain) {
      removed.put(n, Boolean.TRUE);
    }
    replacement.put(chain.get(chain.size() - 1), fused);
  }

  private static NodeProto.Builder node(String op, String name) {
    return NodeProto.newBuilder().setOpType(op).setDomain(DOMAIN).setName(name);
  }

  private static AttributeProto floatAttr(String name, float v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
  }

  private static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }

  // ---- patterns ----

  private void gelu(NodeProto erf) {
    NodeProto pre = producer.get(erf.getInput(0));
    if (pre == null || !pre.getDomain().isEmpty() || removed.containsKey(pre)
        || soleConsumer(pre.getOutput(0), "Erf") != erf) {
      return;
    }
    String x;
    if (pre.getOpType().equals("Div") && near(scalar(pre.getInput(1)), Math.sqrt(2))) {
      x = pre.getInput(0);
    } else if (pre.getOpType().equals("Mul") && constantOperand(pre, Math.sqrt(0.5)) >= 0) {
      x = pre.getInput(1 - constantOperand(pre, Math.sqrt(0.5)));
    } else {
      return;
    }
    NodeProto add = soleConsumer(erf.getOutput(0), "Add");
    if (add == null || constantOperand(add, 1.0) < 0) {
      return;
    }
    NodeProto m1 = soleConsumer(add.getOutput(0), "Mul");
    if (m1 == null) {
      return;
    }
    String o1 = other(m1, add.getOutput(0));
    List<NodeProto> chain = new ArrayList<>(List.of(pre, erf, add));
    NodeProto half = producedBy(o1, "Mul");
    NodeProto last;
    if (o1.equals(x) || near(scalar(o1), 0.5)) {
      // (x * (1 + erf)) * 0.5, or (0.5 * (1 + erf)) * x
      NodeProto m2 = soleConsumer(m1.getOutput(0), "Mul");
      if (m2 == null) {
        return;
      }
      String o2 = other(m2, m1.getOutput(0));
      boolean ok = o1.equals(x) ? near(scalar(o2), 0.5) : o2.equals(x);
      if (!ok) {
        return;
      }
      chain.add(m1);
      chain.add(m2);
      last = m2;
    } else if (half != null && soleConsumer(half.getOutput(0), "Mul") == m1 && constantOperand(half, 0.5) >= 0
        && half.getInput(1 - constantOperand(half, 0.5)).equals(x)) {
      // (x * 0.5) * (1 + erf)
      chain.add(half);
      chain.add(m1);
      last = m1;
    } else {
      return;
    }
    replace(chain, node("Gelu", erf.getName() + "/fused_gelu").addInput(x).addOutput(last.getOutput(0)).build());
  }

  /** True when a ReduceMean reduces the last axis only and keeps it. */
  private boolean reducesLastAxis(NodeProto r) {
    Attrs a = new Attrs(r);
    if (a.i("keepdims", 1) == 0) {
      return false;
    }
    long[] axes = a.ints("axes");
    if (axes == null && r.getInputCount() > 1) {
      Value v = constants.get(r.getInput(1));
      axes = v == null ? null : v.longs();
    }
    return axes != null && axes.length == 1 && axes[0] == -1;
  }

  private void layerNorm(NodeProto mean) {
    String x = mean.getInput(0);
    if (!reducesLastAxis(mean)) {
      return;
    }
    NodeProto sub = soleConsumer(mean.getOutput(0), "Sub");
    if (sub == null || !sub.getInput(0).equals(x) || !sub.getInput(1).equals(mean.getOutput(0))) {
      return;
    }
    List<NodeProto> users = consumers.getOrDefault(sub.getOutput(0), List.of());
    if (users.size() != 2 || graphOutputs.contains(sub.getOutput(0))) {
      return;
    }
    NodeProto sq = null;
    NodeProto div = null;
    for (NodeProto u : users) {
      if (!u.getDomain().isEmpty() || removed.containsKey(u)) {
        return;
      }
      String d = sub.getOutput(0);
      if (u.getOpType().equals("Pow") && u.getInput(0).equals(d) && near(scalar(u.getInput(1)), 2)) {
        sq = u;
      } else if (u.getOpType().equals("Mul") && u.getInput(0).equals(d) && u.getInput(1).equals(d)) {
        sq = u;
      } else if (u.getOpType().equals("Div") && u.getInput(0).equals(d)) {
        div = u;
      }
    }
    if (sq == null || div == null) {
      return;
    }
    NodeProto var = soleConsumer(sq.getOutput(0), "ReduceMean");
    if (var == null || !reducesLastAxis(var)) {
      return;
    }
    NodeProto addEps = soleConsumer(var.getOutput(0), "Add");
    if (addEps == null) {
      return;
    }
    String epsName = other(addEps, var.getOutput(0));
    float eps = scalar(epsName);
    if (Float.isNaN(eps)) {
      return;
    }
    NodeProto sqrt = soleConsumer(addEps.getOutput(0), "Sqrt");
    if (sqrt == null || soleConsumer(sqrt.getOutput(0), "Div") != div || !div.getInput(1).equals(sqrt.getOutput(0))) {
      return;
    }
    List<NodeProto> chain = new ArrayList<>(List.of(mean, sub, sq, var, addEps, sqrt, div));
    // a residual sum read only by this layer norm: added in the same pass (ONNX Runtime's SkipLayerNormalization)
    String skip = "";
    NodeProto sum = producedBy(x, "Add");
    List<NodeProto> xUsers = consumers.getOrDefault(x, List.of());
    if (sum != null && xUsers.size() == 2 && xUsers.contains(mean) && xUsers.contains(sub) && !graphOutputs.contains(x)
        && !sum.getInput(0).equals(sum.getInput(1)) && constants.get(sum.getInput(0)) == null
        && constants.get(sum.getInput(1)) == null) {
      chain.add(0, sum);
      x = sum.getInput(0);
      skip = sum.getInput(1);
    }
    String out = div.getOutput(0);
    String gamma = "";
    String beta = "";
    NodeProto mul = soleConsumer(out, "Mul");
    if (mul != null && lastAxisVector(other(mul, out))) {
      gamma = other(mul, out);
      chain.add(mul);
      out = mul.getOutput(0);
      NodeProto add = soleConsumer(out, "Add");
      if (add != null && lastAxisVector(other(add, out))) {
        beta = other(add, out);
        chain.add(add);
        out = add.getOutput(0);
      }
    }
    NodeProto.Builder ln = node("LayerNorm", div.getName() + "/fused_layer_norm").addInput(x).addInput(gamma)
        .addInput(beta).addOutput(out).addAttribute(floatAttr("epsilon", eps));
    if (!skip.isEmpty()) {
      ln.addInput(skip);
    }
    replace(chain, ln.build());
  }

  /** A dense constant of rank 1 (broadcast along the last axis). */
  private boolean lastAxisVector(String name) {
    if (name == null) {
      return false;
    }
    Value v = constants.get(name);
    return v != null && v.isFloating() && !v.isCompressed() && v.rank() == 1;
  }

  /** A matched {@code Softmax(Add(scale(scores), mask))}: its nodes in order, operands and scale. */
  private record SoftmaxMatch(List<NodeProto> chain, String scores, String mask, float scale) {}

  private SoftmaxMatch matchSoftmax(NodeProto softmax) {
    NodeProto add = producedBy(softmax.getInput(0), "Add");
    if (add == null || soleConsumer(add.getOutput(0), "Softmax") != softmax) {
      return null;
    }
    List<NodeProto> chain = new ArrayList<>();
    String scores = null;
    String mask = null;
    float scale = 1f;
    for (int i = 0; i < 2 && scores == null; i++) {
      NodeProto s = producer.get(add.getInput(i));
      if (s == null || !s.getDomain().isEmpty() || removed.containsKey(s) || !onlyReadBy(s.getOutput(0), add)
          || add.getInput(0).equals(add.getInput(1))) {
        continue;
      }
      if (s.getOpType().equals("Div") && !Float.isNaN(scalar(s.getInput(1))) && scalar(s.getInput(1)) != 0f) {
        scale = 1f / scalar(s.getInput(1));
        scores = s.getInput(0);
      } else if (s.getOpType().equals("Mul") && !Float.isNaN(scalar(s.getInput(1)))) {
        scale = scalar(s.getInput(1));
        scores = s.getInput(0);
      } else if (s.getOpType().equals("Mul") && !Float.isNaN(scalar(s.getInput(0)))) {
        scale = scalar(s.getInput(0));
        scores = s.getInput(1);
      }
      if (scores != null) {
        chain.add(s);
        mask = add.getInput(1 - i);
      }
    }
    if (scores == null) {
      return null;
    }
    chain.add(add);
    chain.add(softmax);
    return new SoftmaxMatch(chain, scores, mask, scale);
  }

  private void softmax(NodeProto softmax) {
    SoftmaxMatch m = matchSoftmax(softmax);
    if (m == null) {
      return;
    }
    Attrs a = new Attrs(softmax);
    NodeProto.Builder b = node("ScaledMaskedSoftmax", softmax.getName() + "/fused_softmax").addInput(m.scores)
        .addInput(m.mask).addOutput(softmax.getOutput(0)).addAttribute(floatAttr("scale", m.scale));
    if (a.get("axis") != null) {
      b.addAttribute(intAttr("axis", a.i("axis", -1)));
    }
    replace(m.chain, b.build());
  }

  /** A {@code Transpose} producing {@code name} with permutation {@code perm}, read only by {@code reader}. */
  private NodeProto transposeInto(String name, NodeProto reader, long... perm) {
    NodeProto t = producedBy(name, "Transpose");
    return t != null && onlyReadBy(name, reader) && java.util.Arrays.equals(new Attrs(t).ints("perm"), perm) ? t
        : null;
  }

  /**
   * Multi-head self-attention as BERT-style exports write it, matched by structure: {@code Q [b,
   * s, h, d]} and {@code V} through {@code Transpose(0,2,1,3)}, {@code K} through {@code
   * Transpose(0,2,3,1)} (or {@code (0,2,1,3)} then {@code (0,1,3,2)}), {@code MatMul}, the scaled
   * masked softmax over the last of four axes, {@code MatMul} by {@code V}, {@code
   * Transpose(0,2,1,3)}. Returns false, touching nothing, when any part differs.
   */
  private boolean attention(NodeProto softmax) {
    long axis = new Attrs(softmax).i("axis", Long.MIN_VALUE);
    if (axis != 3 && axis != -1) {
      return false; // the default axis depends on the opset; exports name it
    }
    SoftmaxMatch sm = matchSoftmax(softmax);
    if (sm == null) {
      return false;
    }
    NodeProto mm1 = producedBy(sm.scores, "MatMul");
    if (mm1 == null || !onlyReadBy(sm.scores, sm.chain.get(0))) {
      return false;
    }
    List<NodeProto> chain = new ArrayList<>();
    NodeProto tq = transposeInto(mm1.getInput(0), mm1, 0, 2, 1, 3);
    if (tq == null) {
      return false;
    }
    chain.add(tq);
    String k;
    NodeProto tk = transposeInto(mm1.getInput(1), mm1, 0, 2, 3, 1);
    if (tk != null) {
      chain.add(tk);
      k = tk.getInput(0);
    } else {
      tk = transposeInto(mm1.getInput(1), mm1, 0, 1, 3, 2);
      NodeProto tk0 = tk == null ? null : transposeInto(tk.getInput(0), tk, 0, 2, 1, 3);
      if (tk0 == null) {
        return false;
      }
      chain.add(tk0);
      chain.add(tk);
      k = tk0.getInput(0);
    }
    NodeProto mm2 = soleConsumer(softmax.getOutput(0), "MatMul");
    if (mm2 == null || !mm2.getInput(0).equals(softmax.getOutput(0))) {
      return false;
    }
    NodeProto tv = transposeInto(mm2.getInput(1), mm2, 0, 2, 1, 3);
    NodeProto to = soleConsumer(mm2.getOutput(0), "Transpose");
    if (tv == null || to == null || !java.util.Arrays.equals(new Attrs(to).ints("perm"), new long[] {0, 2, 1, 3})) {
      return false;
    }
    chain.add(mm1);
    chain.addAll(sm.chain);
    chain.add(tv);
    chain.add(mm2);
    chain.add(to);
    replace(chain, node("Attention", softmax.getName() + "/fused_attention").addInput(tq.getInput(0)).addInput(k)
        .addInput(tv.getInput(0)).addInput(sm.mask).addOutput(to.getOutput(0))
        .addAttribute(floatAttr("scale", sm.scale)).build());
    return true;
  }

  private void matMulBias(NodeProto matMul) {
    Value w = constants.get(matMul.getInput(1));
    if (w == null || w.rank() != 2 || !w.isFloating()) {
      return;
    }
    NodeProto add = soleConsumer(matMul.getOutput(0), "Add");
    if (add == null) {
      return;
    }
    String bias = other(add, matMul.getOutput(0));
    Value b = bias == null ? null : constants.get(bias);
    if (b == null || !b.isFloating() || b.isCompressed() || b.rank() != 1 || b.dim(0) != w.dim(1)) {
      return;
    }
    replace(List.of(matMul, add), node("MatMulBias", matMul.getName() + "/fused_bias").addInput(matMul.getInput(0))
        .addInput(matMul.getInput(1)).addInput(bias).addOutput(add.getOutput(0)).build());
  }
}
