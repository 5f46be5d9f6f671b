package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.core.calibrate.Hadamard;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A block Hadamard rotation of MatMul inputs, folded into the weights (QuIP / QuaRot's incoherence
 * processing, in standard ONNX): {@code x W = (x H)(H W)} for the orthonormal, symmetric
 * block-diagonal Walsh-Hadamard matrix {@code H} (blocks of {@code block} along the input axis, its
 * own inverse). The rotated model stores {@code H W} and rotates each input in the graph ({@code
 * Reshape [-1, block]}, {@code MatMul H}, {@code Reshape} back to the input's shape, once per
 * input however many weights read it), so it computes what the original does in fp32 and every
 * runtime runs it. Rounding {@code H W} spreads a weight column's few large values over its block,
 * which lowers the rounding error the model's output sees: measured with GPTQ at uniform 4 bits
 * (200 Moby-Dick sentences, pooled cosine to fp32), all-MiniLM-L6-v2 0.9888 / 0.9802 -> 0.9919 /
 * 0.9842 and bge-small 0.9935 / 0.9871 -> 0.9950 / 0.9906 at the same size (docs/benchmarks.md).
 * The cost at run time: one {@code [*, block] x [block, block]} product per rotated input.
 *
 * <p>A weight is rotated when it is a 2-D fp32 initializer of the top-level graph whose row count is
 * a multiple of {@code block}, every reader is a top-level MatMul taking it as its second input on a
 * first input that is computed (not a constant), and no subgraph ({@code If}, {@code Loop}, {@code
 * Scan}) reads it.
 */
public final class HadamardRotation {
  private HadamardRotation() {}

  /** The block size measured best on the text encoders (32 over 64 and 128 at 3 and 4 bits). */
  public static final int DEFAULT_BLOCK = 32;

  /**
   * Writes {@code in} rotated to {@code out} (a temp file beside it first, then renamed).
   *
   * @return the number of weights rotated
   * @throws OnnxFormatException when the model keeps weights in external files, is not ONNX, or
   *     has no weight to rotate
   */
  public static int write(Path in, Path out, int block) throws IOException {
    checkBlock(block);
    ModelProto m;
    try (InputStream s = Files.newInputStream(in)) {
      m = ModelProto.parseFrom(s);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new OnnxFormatException(in.toString(), null, "not an ONNX model: " + e.getMessage(), e);
    }
    for (TensorProto t : m.getGraph().getInitializerList()) {
      if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
        throw new OnnxFormatException(in.toString(), t.getName(), "the rotation needs every weight inside the .onnx "
            + "file; this one is in an external data file");
      }
    }
    Rotated r = rotate(m, block);
    if (r.weights() == 0) {
      throw new OnnxFormatException(in.toString(), null, "no MatMul weight with a row count that is a multiple of "
          + block + " to rotate");
    }
    Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), ".rotating", ".onnx");
    try {
      try (var o = Files.newOutputStream(tmp)) {
        r.model().writeTo(o);
      }
      Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return r.weights();
  }

  /** A rotated model and the number of weights it rotated. */
  record Rotated(ModelProto model, int weights) {}

  /** {@code m} with its rotatable weights rotated (see the class comment). */
  static Rotated rotate(ModelProto m, int block) {
    checkBlock(block);
    GraphProto g = m.getGraph();
    Map<String, TensorProto> init = new HashMap<>();
    g.getInitializerList().forEach(t -> init.put(t.getName(), t));
    Map<String, List<NodeProto>> readers = new HashMap<>();
    Set<String> names = new HashSet<>(init.keySet());
    for (NodeProto n : g.getNodeList()) {
      n.getInputList().forEach(i -> readers.computeIfAbsent(i, k -> new ArrayList<>()).add(n));
      names.addAll(n.getOutputList());
    }
    g.getInputList().forEach(v -> names.add(v.getName()));
    g.getOutputList().forEach(v -> names.add(v.getName()));
    Set<String> inSubgraphs = new HashSet<>();
    g.getNodeList().forEach(n -> subgraphInputs(n, inSubgraphs));
    Set<String> weights = new HashSet<>();
    for (TensorProto t : g.getInitializerList()) {
      if (!inSubgraphs.contains(t.getName())
          && rotatable(t, block, readers.getOrDefault(t.getName(), List.of()), init)) {
        weights.add(t.getName());
      }
    }
    if (weights.isEmpty()) {
      return new Rotated(m, 0);
    }
    String h = unique(names, "cortexsdr_rotation_h");
    String rows = unique(names, "cortexsdr_rotation_rows");
    GraphProto.Builder b = g.toBuilder().clearNode().clearInitializer();
    Map<String, String> rotated = new LinkedHashMap<>();
    for (NodeProto n : g.getNodeList()) {
      boolean ours = n.getOpType().equals("MatMul") && n.getInputCount() == 2 && weights.contains(n.getInput(1));
      if (ours && !rotated.containsKey(n.getInput(0))) {
        String x = n.getInput(0);
        String y = unique(names, x + "_rotated");
        rotated.put(x, y);
        rotationNodes(x, y, h, rows, base -> unique(names, base)).forEach(b::addNode);
      }
      b.addNode(ours ? n.toBuilder().setInput(0, rotated.get(n.getInput(0))).build() : n);
    }
    for (TensorProto t : g.getInitializerList()) {
      if (weights.contains(t.getName())) {
        int k = (int) t.getDims(0);
        int cols = (int) t.getDims(1);
        b.addInitializer(t.toBuilder().clearFloatData().setRawData(raw(rotateRows(floats(t), k, cols, block))));
      } else {
        b.addInitializer(t);
      }
    }
    b.addInitializer(TensorProto.newBuilder().setName(h).setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(block)
        .addDims(block).setRawData(raw(matrix(block))));
    b.addInitializer(TensorProto.newBuilder().setName(rows).setDataType(TensorProto.DataType.INT64_VALUE).addDims(2)
        .addInt64Data(-1).addInt64Data(block));
    // the manifest of the compressed file says how its graph differs from the original's
    ModelProto.Builder mb = m.toBuilder().setGraph(b).addMetadataProps(ai.onnx.proto.OnnxMl.StringStringEntryProto
        .newBuilder().setKey("cortexsdr_rotation").setValue("Walsh-Hadamard, blocks of " + block + " rows, "
            + weights.size() + " MatMul weights, " + rotated.size() + " inputs"));
    return new Rotated(mb.build(), weights.size());
  }

  /**
   * The nodes that compute {@code y = x H} for an input {@code x} of any rank whose last axis is a
   * multiple of the block: {@code Reshape} to {@code rows} ({@code [-1, block]}, an int64 tensor
   * named so), {@code MatMul} by {@code h} ({@code [block, block]}), {@code Reshape} back to {@code
   * Shape(x)}; {@code unique} makes each fresh name from a base.
   */
  static List<NodeProto> rotationNodes(String x, String y, String h, String rows,
      java.util.function.UnaryOperator<String> unique) {
    String flat = unique.apply(y + "_rows");
    String turned = unique.apply(y + "_h");
    String shape = unique.apply(y + "_shape");
    return List.of(
        NodeProto.newBuilder().setOpType("Reshape").setName(flat).addInput(x).addInput(rows).addOutput(flat).build(),
        NodeProto.newBuilder().setOpType("MatMul").setName(turned).addInput(flat).addInput(h).addOutput(turned)
            .build(),
        NodeProto.newBuilder().setOpType("Shape").setName(shape).addInput(x).addOutput(shape).build(),
        NodeProto.newBuilder().setOpType("Reshape").setName(y).addInput(turned).addInput(shape).addOutput(y).build());
  }

  /** The orthonormal block Walsh-Hadamard matrix of one block, row-major {@code [block, block]}. */
  static float[] matrix(int block) {
    float[] identity = new float[block * block];
    for (int i = 0; i < block; i++) {
      identity[i * block + i] = 1f;
    }
    return rotateRows(identity, block, block, block);
  }

  /**
   * {@code H w} for the row-major {@code [k, n]} matrix {@code w}: the orthonormal Walsh-Hadamard
   * transform of each column over consecutive blocks of {@code block} rows (a new array).
   */
  public static float[] rotateRows(float[] w, int k, int n, int block) {
    checkBlock(block);
    if (k % block != 0 || (long) k * n != w.length) {
      throw new IllegalArgumentException("a [" + k + ", " + n + "] matrix of " + w.length + " values does not split "
          + "into blocks of " + block + " rows");
    }
    return Hadamard.rotateRows(w, k, n, block);
  }

  private static boolean rotatable(TensorProto t, int block, List<NodeProto> readers, Map<String, TensorProto> init) {
    if (t.getDimsCount() != 2 || t.getDataType() != TensorProto.DataType.FLOAT_VALUE || t.getDims(0) % block != 0
        || t.getDims(0) < block || readers.isEmpty()) {
      return false;
    }
    for (NodeProto r : readers) {
      if (!r.getOpType().equals("MatMul") || !(r.getDomain().isEmpty() || r.getDomain().equals("ai.onnx"))
          || r.getInputCount() != 2 || !r.getInput(1).equals(t.getName()) || r.getInput(0).equals(t.getName())
          || init.containsKey(r.getInput(0))) {
        return false;
      }
    }
    return true;
  }

  /** Every value a subgraph of {@code n} (If, Loop, Scan bodies, at any depth) reads: those stay as they are. */
  private static void subgraphInputs(NodeProto n, Set<String> into) {
    for (ai.onnx.proto.OnnxMl.AttributeProto a : n.getAttributeList()) {
      List<GraphProto> graphs = new ArrayList<>(a.getGraphsList());
      if (a.hasG()) {
        graphs.add(a.getG());
      }
      for (GraphProto sub : graphs) {
        for (NodeProto m : sub.getNodeList()) {
          into.addAll(m.getInputList());
          subgraphInputs(m, into);
        }
      }
    }
  }

  private static void checkBlock(int block) {
    if (block < 2 || Integer.bitCount(block) != 1) {
      throw new IllegalArgumentException("the rotation block must be a power of 2 of at least 2, got " + block);
    }
  }

  private static String unique(Set<String> names, String base) {
    String n = base;
    for (int i = 1; names.contains(n); i++) {
      n = base + "_" + i;
    }
    names.add(n);
    return n;
  }

  private static float[] floats(TensorProto t) {
    if (t.getRawData().isEmpty()) {
      float[] v = new float[t.getFloatDataCount()];
      for (int i = 0; i < v.length; i++) {
        v[i] = t.getFloatData(i);
      }
      return v;
    }
    FloatBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] v = new float[b.remaining()];
    b.get(v);
    return v;
  }

  private static ByteString raw(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return ByteString.copyFrom(b);
  }
}
