package dev.selfbyt.cortexsdr.onnxops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Folds the nodes that follow a sparse operator into it, as ONNX Runtime fuses them into its own
 * Conv and Gemm: without this the sparse graph paid separate passes (and a node's dispatch each) that
 * the dense graph did not. Measured on the Fashion-MNIST CNN at 90% sparsity: a separate Relu about
 * 110 µs of a 1 ms graph at batch 64, a MaxPool on the NCHW output about 170 µs (ONNX Runtime's own
 * runs blocked NCHWc, 66 µs), and at batch 1 each extra node about 4 µs of 80.
 *
 * <ul>
 *   <li>a {@code Relu} into {@code SdrConv} or {@code SdrMatMul} (attribute {@code relu = 1});
 *   <li>an {@code Add} of a float initializer of shape {@code [N]} into an {@code SdrMatMul}
 *       without a folded Relu (the bias, input 6 {@code B});
 *   <li>a {@code MaxPool} into an {@code SdrConv} (attributes {@code pool = 1}, {@code
 *       pool_kernel_shape}, {@code pool_pads}, {@code pool_strides}, {@code pool_ceil_mode}) when
 *       it is 2-D, has one output, no dilation, explicit or {@code VALID} padding, and every window
 *       holds a pixel (pads below the window; with ceil_mode no window past the end), else it stays a
 *       node. Relu and bias commute with the max, so a pooled {@code SdrConv} still takes a Relu that
 *       follows the pool.
 * </ul>
 *
 * Only a value that exactly one node of the main graph reads, and that is no graph output, is
 * folded away (a read inside a subgraph counts). Run only on graphs of {@link CaiOrt} sessions,
 * whose operator library is this one: an older library would ignore the attributes and compute
 * without them, so exported files keep the nodes.
 */
final class SdrFolds {
  private SdrFolds() {}

  /** @return how many nodes were folded into {@code g} */
  static int fold(GraphProto.Builder g) {
    int total = 0;
    for (int done = foldPass(g); done > 0; done = foldPass(g)) {
      total += done;
    }
    return total;
  }

  /** One pass: each sparse node takes at most one follower; a chain needs the next pass. */
  private static int foldPass(GraphProto.Builder g) {
    Map<String, Integer> readers = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      countReads(n, readers);
    }
    Set<String> outputs = new HashSet<>();
    g.getOutputList().forEach(o -> outputs.add(o.getName()));
    Map<String, TensorProto> initializers = new HashMap<>();
    g.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
    Map<String, Integer> producer = new HashMap<>();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto n = g.getNode(i);
      if ((isOp(n, "SdrConv") || isOp(n, "SdrMatMul")) && n.getOutputCount() == 1) {
        producer.put(n.getOutput(0), i);
      }
    }
    Set<Integer> touched = new HashSet<>();
    List<Integer> drop = new ArrayList<>();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto next = g.getNode(i);
      if (!next.getDomain().isEmpty() || next.getInputCount() == 0) {
        continue;
      }
      int at = -1;
      String other = null;
      for (int k = 0; k < next.getInputCount() && at < 0; k++) {
        String y = next.getInput(k);
        Integer p = producer.get(y);
        if (p != null && !touched.contains(p) && !outputs.contains(y) && readers.getOrDefault(y, 0) == 1) {
          at = p;
          other = next.getInputCount() == 2 ? next.getInput(1 - k) : null;
        }
      }
      if (at < 0) {
        continue;
      }
      NodeProto sparse = g.getNode(at);
      Optional<NodeProto> folded = switch (next.getOpType()) {
        case "Relu" -> next.getInputCount() == 1 && !has(sparse, "relu")
            ? Optional.of(sparse.toBuilder().addAttribute(ints("relu")).build()) : Optional.empty();
        case "Add" -> other != null ? bias(sparse, initializers.get(other), other) : Optional.empty();
        case "MaxPool" -> maxPool(sparse, next);
        default -> Optional.empty();
      };
      if (folded.isPresent() && next.getOutputCount() >= 1) {
        g.setNode(at, folded.get().toBuilder().setOutput(0, next.getOutput(0)).build());
        touched.add(at);
        drop.add(i);
      }
    }
    for (int k = drop.size() - 1; k >= 0; k--) {
      g.removeNode(drop.get(k));
    }
    return drop.size();
  }

  /** SdrMatMul + a float [N] initializer, before any Relu: the bias as input 6. */
  private static Optional<NodeProto> bias(NodeProto mm, TensorProto b, String name) {
    if (!isOp(mm, "SdrMatMul") || b == null || has(mm, "relu") || mm.getInputCount() > 6
        || b.getDataType() != TensorProto.DataType.FLOAT_VALUE || b.getDimsCount() != 1
        || b.getDims(0) != intAttr(mm, "N", -1)) {
      return Optional.empty();
    }
    NodeProto.Builder n = mm.toBuilder();
    while (n.getInputCount() < 6) {
      n.addInput(""); // optional inputs left empty up to B
    }
    return Optional.of(n.addInput(name).build());
  }

  /** SdrConv + a 2-D MaxPool whose every window holds a pixel; empty when anything else. */
  private static Optional<NodeProto> maxPool(NodeProto conv, NodeProto pool) {
    if (!isOp(conv, "SdrConv") || has(conv, "pool") || pool.getInputCount() != 1
        || (pool.getOutputCount() > 1 && !pool.getOutput(1).isEmpty())) {
      return Optional.empty();
    }
    long[] kernel = longs(pool, "kernel_shape", null);
    long[] pads = longs(pool, "pads", new long[] {0, 0, 0, 0});
    long[] strides = longs(pool, "strides", new long[] {1, 1});
    long[] dilations = longs(pool, "dilations", new long[] {1, 1});
    long ceil = intAttr(pool, "ceil_mode", 0);
    String autoPad = pool.getAttributeList().stream().filter(a -> a.getName().equals("auto_pad"))
        .map(a -> a.getS().toStringUtf8()).findFirst().orElse("NOTSET");
    if (autoPad.equals("VALID") && !has(pool, "pads")) {
      pads = new long[] {0, 0, 0, 0};
    } else if (!autoPad.equals("NOTSET")) {
      return Optional.empty(); // SAME_*: pads depend on the input size
    }
    if (kernel == null || kernel.length != 2 || pads.length != 4 || strides.length != 2 || dilations.length != 2
        || dilations[0] != 1 || dilations[1] != 1 || (ceil != 0 && ceil != 1)) {
      return Optional.empty();
    }
    for (int a = 0; a < 2; a++) {
      if (kernel[a] < 1 || strides[a] < 1 || pads[a] < 0 || pads[a + 2] < 0 || pads[a] >= kernel[a]
          || pads[a + 2] >= kernel[a] || (ceil == 1 && strides[a] > kernel[a] - pads[a + 2])) {
        return Optional.empty();
      }
    }
    return Optional.of(conv.toBuilder().addAttribute(ints("pool", 1))
        .addAttribute(ints("pool_kernel_shape", kernel)).addAttribute(ints("pool_pads", pads))
        .addAttribute(ints("pool_strides", strides)).addAttribute(ints("pool_ceil_mode", ceil)).build());
  }

  private static boolean isOp(NodeProto n, String op) {
    return n.getOpType().equals(op) && n.getDomain().equals(SdrOps.DOMAIN);
  }

  private static boolean has(NodeProto n, String attribute) {
    return n.getAttributeList().stream().anyMatch(a -> a.getName().equals(attribute));
  }

  private static long intAttr(NodeProto n, String name, long dflt) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name) && a.getType() == AttributeProto.AttributeType.INT)
        .mapToLong(AttributeProto::getI).findFirst().orElse(dflt);
  }

  private static long[] longs(NodeProto n, String name, long[] dflt) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name))
        .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).findFirst().orElse(dflt);
  }

  /** An INT attribute for one value ({@code relu} = 1 when none is given), INTS for several. */
  private static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
    if (v.length <= 1) {
      return a.setType(AttributeProto.AttributeType.INT).setI(v.length == 0 ? 1 : v[0]).build();
    }
    a.setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  /** Every read of every value by {@code n}, its subgraphs included (an outer value read inside one counts). */
  private static void countReads(NodeProto n, Map<String, Integer> readers) {
    for (String in : n.getInputList()) {
      readers.merge(in, 1, Integer::sum);
    }
    for (AttributeProto a : n.getAttributeList()) {
      if (a.hasG()) {
        a.getG().getNodeList().forEach(s -> countReads(s, readers));
      }
      for (GraphProto sub : a.getGraphsList()) {
        sub.getNodeList().forEach(s -> countReads(s, readers));
      }
    }
  }
}
