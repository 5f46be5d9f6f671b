package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The graph edits of calibration, apart from running it: which MatMul weights share an input
 * (the groups GPTQ calibrates together), the {@code Mul} that activation scaling inserts, fresh
 * names, and a stripped graph filled with given weight values.
 */
final class CalibrationGraphs {
  private CalibrationGraphs() {}

  /**
   * The graph with {@code activation} multiplied by the initializer {@code inverse} ({@code [k]},
   * weight data stripped) before the group's {@code MatMul}s, the node placed before the first of
   * them.
   */
  static ModelProto withInputScaled(ModelProto model, List<String> group, String activation, String inverse, int k) {
    GraphProto g = model.getGraph();
    String scaled = uniqueName(g, activation + "_cortexsdr_scaled");
    GraphProto.Builder gb = withGroupInput(g, group, activation, scaled, List.of(NodeProto.newBuilder()
        .setOpType("Mul").setName(scaled).addInput(activation).addInput(inverse).addOutput(scaled).build()));
    gb.addInitializer(ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(inverse)
        .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE).addDims(k));
    return model.toBuilder().setGraph(gb).build();
  }

  /**
   * {@code g}'s nodes with {@code nodes} (computing {@code input} from {@code activation}) placed
   * before the first of the group's {@code MatMul}s on {@code activation}, and those {@code
   * MatMul}s reading {@code input} instead.
   */
  private static GraphProto.Builder withGroupInput(GraphProto g, List<String> group, String activation, String input,
      List<NodeProto> nodes) {
    GraphProto.Builder gb = g.toBuilder().clearNode();
    boolean inserted = false;
    for (NodeProto n : g.getNodeList()) {
      boolean ours = n.getOpType().equals("MatMul") && n.getInputCount() == 2 && group.contains(n.getInput(1))
          && n.getInput(0).equals(activation);
      if (ours && !inserted) {
        gb.addAllNode(nodes);
        inserted = true;
      }
      gb.addNode(ours ? n.toBuilder().setInput(0, input).build() : n);
    }
    return gb;
  }

  /**
   * The graph with the input of the group's {@code MatMul}s ({@code activation}, whose last axis is a
   * multiple of {@code block}) rotated by the block Walsh-Hadamard matrix: the nodes of {@link
   * HadamardRotation#rotationNodes}, placed before the first of the group's {@code MatMul}s, which
   * then read the rotated input. Their initializers are added when the graph lacks them: {@code h}
   * ({@code [block, block]}, data stripped, to be filled as the other weights are) and {@code rows}
   * (the int64 shape {@code [-1, block]}, its data inline). The group's weights must be stored
   * rotated ({@code H W}) for the graph to compute what it did.
   */
  static ModelProto withInputRotated(ModelProto model, List<String> group, String activation, String h, String rows,
      int block) {
    GraphProto g = model.getGraph();
    String rotated = uniqueName(g, activation + "_cortexsdr_rotated");
    java.util.Set<String> taken = new java.util.HashSet<>(List.of(rotated));
    List<NodeProto> nodes = HadamardRotation.rotationNodes(activation, rotated, h, rows, base -> {
      String n = uniqueName(g, base);
      for (int i = 2; taken.contains(n); i++) {
        n = uniqueName(g, base + "_" + i);
      }
      taken.add(n);
      return n;
    });
    GraphProto.Builder gb = withGroupInput(g, group, activation, rotated, nodes);
    if (g.getInitializerList().stream().noneMatch(t -> t.getName().equals(h))) {
      gb.addInitializer(ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(h)
          .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE).addDims(block).addDims(block));
      gb.addInitializer(ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(rows)
          .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.INT64_VALUE).addDims(2).addInt64Data(-1)
          .addInt64Data(block));
    }
    return model.toBuilder().setGraph(gb).build();
  }

  /**
   * {@code model} with the channels {@code channels} (an int64 vector of {@code count} indices, an
   * initializer) of {@code activation} split off each MatMul in {@code rows} (weight -> its {@code
   * [count, N]} rows for those channels, an initializer): {@code Y = MatMul(x', W)} becomes {@code Y
   * = Add(MatMul(x', W), MatMul(Gather(activation, channels, axis=-1), rows))}. Standard ONNX;
   * the caller zeroes the channels in {@code x'} (the smoothing scale) and in {@code W}. Where the
   * product's only reader adds a constant vector (its bias), the split-off product is added after
   * that bias Add, not before: ONNX Runtime then still fuses the bias into its integer MatMul
   * (measured on all-MiniLM-L6-v2's int8-fast export with 11 split MatMuls, ONNX Runtime 1.29:
   * before, 11 bias Adds ran on their own, about 25 us each at batch 1 of 128 tokens).
   */
  static ModelProto withOutlierChannels(ModelProto model, String activation, String channels, int count,
      Map<String, TensorInfo> rows) {
    GraphProto g = model.getGraph();
    // names from the (short) weight names, not the activation's path: they add bytes to every file
    String gathered = uniqueName(g, rows.keySet().iterator().next() + "_outlier_in");
    GraphProto.Builder gb = g.toBuilder().clearNode();
    // the product's bias Add (a constant vector), where it has one: the split-off product is added
    // after it, so that ONNX Runtime still fuses the bias into the integer MatMul
    Map<String, List<NodeProto>> consumers = new HashMap<>();
    java.util.Set<String> vectors = new java.util.HashSet<>();
    g.getInitializerList().stream().filter(t -> t.getDimsCount() == 1).forEach(t -> vectors.add(t.getName()));
    for (NodeProto n : g.getNodeList()) {
      n.getInputList().forEach(i -> consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n));
      if (n.getOpType().equals("Constant") && n.getAttributeCount() == 1 && n.getAttribute(0).getT().getDimsCount() == 1) {
        vectors.add(n.getOutput(0));
      }
    }
    Map<NodeProto, String> biasOf = new HashMap<>(); // bias Add -> the weight whose product it adds to
    boolean gatherAdded = false;
    for (NodeProto n : g.getNodeList()) {
      String weight = n.getOpType().equals("MatMul") && n.getInputCount() == 2 ? n.getInput(1) : null;
      TensorInfo rowsInfo = weight == null ? null : rows.get(weight);
      String after = biasOf.get(n);
      if (rowsInfo == null && after == null) {
        gb.addNode(n);
        continue;
      }
      if (!gatherAdded) {
        gb.addNode(NodeProto.newBuilder().setOpType("Gather").setName(gathered).addInput(activation).addInput(channels)
            .addOutput(gathered).addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("axis")
                .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT).setI(-1)));
        gatherAdded = true;
      }
      if (rowsInfo != null) {
        gb.addInitializer(ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(rowsInfo.name())
            .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE).addDims(count)
            .addDims(rowsInfo.shape()[1]));
        List<NodeProto> users = consumers.getOrDefault(n.getOutput(0), List.of());
        NodeProto bias = users.size() == 1 && users.get(0).getOpType().equals("Add") && users.get(0).getInputCount() == 2
            && g.getOutputList().stream().noneMatch(v -> v.getName().equals(n.getOutput(0))) ? users.get(0) : null;
        if (bias != null && vectors.contains(bias.getInput(bias.getInput(0).equals(n.getOutput(0)) ? 1 : 0))) {
          biasOf.put(bias, weight);
          gb.addNode(n);
          continue;
        }
      }
      // n: the MatMul itself, or the bias Add after it; its output gets the split-off product added
      String w = rowsInfo != null ? weight : after;
      String y = n.getOutput(0);
      String main = uniqueName(g, w + "_int8_out");
      String side = uniqueName(g, w + "_outlier_out");
      gb.addNode(n.toBuilder().setOutput(0, main).build());
      gb.addNode(NodeProto.newBuilder().setOpType("MatMul").setName(side).addInput(gathered)
          .addInput(rows.get(w).name()).addOutput(side));
      gb.addNode(NodeProto.newBuilder().setOpType("Add").setName(uniqueName(g, w + "_outlier_add")).addInput(main)
          .addInput(side).addOutput(y));
    }
    gb.addInitializer(ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(channels)
        .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.INT64_VALUE).addDims(count));
    return model.toBuilder().setGraph(gb).build();
  }

  /** {@code base}, or {@code base_2}, ... whichever names nothing in the graph yet. */
  static String uniqueName(GraphProto g, String base) {
    java.util.Set<String> used = new java.util.HashSet<>();
    g.getInitializerList().forEach(t -> used.add(t.getName()));
    for (NodeProto n : g.getNodeList()) {
      used.addAll(n.getOutputList());
      used.add(n.getName());
    }
    g.getInputList().forEach(v -> used.add(v.getName()));
    String name = base;
    for (int i = 2; used.contains(name); i++) {
      name = base + "_" + i;
    }
    return name;
  }

  /** MatMul weights ([K, N], reduction along K), grouped by the activation they multiply, in graph order. */
  static List<List<String>> matmulGroups(GraphProto g, Map<String, TensorInfo> infos) {
    Map<String, Integer> uses = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      for (String in : n.getInputList()) {
        uses.merge(in, 1, Integer::sum);
      }
    }
    Map<String, List<String>> byActivation = new LinkedHashMap<>();
    for (NodeProto n : g.getNodeList()) {
      if (!n.getOpType().equals("MatMul") || !(n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))) {
        continue;
      }
      String w = n.getInput(1);
      TensorInfo t = infos.get(w);
      if (t == null || t.dtype() != DType.FLOAT32 || t.rank() != 2 || t.role() != TensorRole.MATMUL_WEIGHT
          || uses.getOrDefault(w, 0) != 1 || infos.containsKey(n.getInput(0))) {
        continue;
      }
      byActivation.computeIfAbsent(n.getInput(0), a -> new ArrayList<>()).add(w);
    }
    return new ArrayList<>(byActivation.values());
  }

  static String consumerInput(GraphProto g, String weight) {
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("MatMul") && n.getInput(1).equals(weight)) {
        return n.getInput(0);
      }
    }
    throw new IllegalStateException("no MatMul uses " + weight);
  }

  /**
   * A stripped graph of {@code source} (possibly with tensors added) filled in: the tensors in
   * {@code replaced} get those values, the others their values in the source.
   */
  static ModelProto modelWith(ModelProto stripped, OnnxModelReader source, Map<String, float[]> replaced)
      throws IOException {
    Map<String, TensorInfo> infos = new HashMap<>();
    for (TensorInfo t : source.tensors()) {
      infos.put(t.name(), t);
    }
    return OnnxExporter.withWeights(stripped, name -> {
      float[] q = replaced.get(name);
      if (q != null) {
        ByteBuffer b = ByteBuffer.allocate(4 * q.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(q);
        return b;
      }
      TensorInfo t = infos.get(name);
      return t == null ? null : source.read(t).bytes();
    });
  }

  /**
   * {@code full} (a filled model) whose only output is the Gram matrix {@code A^T A} of {@code
   * activation} flattened to rows of {@code k}: ONNX Runtime's own GEMM does the heavy sum, Java
   * only adds {@code k x k} per sample. With {@code fp32} (the original model's filled graph), it
   * runs beside it, every name prefixed but the inputs, and a second output is {@code A^T X}, X
   * the original's activation: for re-fitting, in one run.
   */
  static ModelProto gramProbe(ModelProto full, String activation, int k, GraphProto fp32, String location)
      throws CaiException {
    GraphProto.Builder g = full.getGraph().toBuilder().clearOutput();
    String p = "cortexsdr_calibration_";
    g.addInitializer(ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(p + "shape")
        .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.INT64_VALUE).addDims(2)
        .addInt64Data(-1).addInt64Data(k));
    g.addNode(NodeProto.newBuilder().setOpType("Reshape").addInput(activation).addInput(p + "shape")
        .addOutput(p + "rows").setName(p + "reshape"));
    g.addNode(NodeProto.newBuilder().setOpType("Transpose").addInput(p + "rows").addOutput(p + "cols")
        .setName(p + "transpose"));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput(p + "cols").addInput(p + "rows")
        .addOutput(p + "gram").setName(p + "gram"));
    g.addOutput(ValueInfoProto.newBuilder().setName(p + "gram")
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
    if (fp32 != null) {
      String f = "cortexsdr_fp32_";
      GraphProto fp = fp32;
      java.util.Set<String> inputs = new java.util.HashSet<>();
      fp.getInputList().forEach(v -> inputs.add(v.getName()));
      fp.getInitializerList().forEach(t -> inputs.remove(t.getName()));
      java.util.function.UnaryOperator<String> rename = x -> x.isEmpty() || inputs.contains(x) ? x : f + x;
      for (ai.onnx.proto.OnnxMl.TensorProto t : fp.getInitializerList()) {
        g.addInitializer(t.toBuilder().setName(rename.apply(t.getName())));
      }
      for (NodeProto n : fp.getNodeList()) {
        if (n.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0)) {
          throw new CaiException(location, null, "re-fitting needs a graph without subgraphs (node "
              + n.getName() + " has one): calibrate without refit");
        }
        NodeProto.Builder b = n.toBuilder().clearInput().clearOutput().setName(f + n.getName());
        n.getInputList().forEach(x -> b.addInput(rename.apply(x)));
        n.getOutputList().forEach(x -> b.addOutput(rename.apply(x)));
        g.addNode(b);
      }
      g.addNode(NodeProto.newBuilder().setOpType("Reshape").addInput(rename.apply(activation)).addInput(p + "shape")
          .addOutput(p + "fp32_rows").setName(p + "fp32_reshape"));
      g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput(p + "cols").addInput(p + "fp32_rows")
          .addOutput(p + "cross").setName(p + "cross"));
      g.addOutput(ValueInfoProto.newBuilder().setName(p + "cross")
          .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
    }
    return full.toBuilder().setGraph(g).build();
  }
}
