package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.PackedCodes;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec.Granularity;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a {@code .cai} as an ONNX model whose quantized weights stay quantized inside ONNX
 * Runtime (Java, Python, C#, JS), using only operators and attributes the target ONNX Runtime
 * release has ({@link OrtVersion}; for {@link OrtVersion#NEWEST}, the default of the Java methods
 * without a version):
 *
 * <ul>
 *   <li>a MatMul whose right-hand side is a block-quantized {@code [K, N]} weight becomes {@code
 *       com.microsoft.MatMulNBits} (4 or 8 bits; other widths are widened to 8 bits, exactly);
 *   <li>a Gather from a block-quantized embedding table becomes {@code
 *       com.microsoft.GatherBlockQuantized} (4 or 8 bits, widened likewise);
 *   <li>a MatMul or Gemm whose weight is int8 symmetric per output channel ({@code int8-fast})
 *       computes with int8 activations ({@code DynamicQuantizeLinear + MatMulInteger}, which ONNX
 *       Runtime fuses into {@code DynamicQuantizeMatMul}) when the manifest lists the weight in
 *       {@code int8Activations}, and with fp32 activations ({@code DequantizeLinear}) otherwise
 *       ({@link IntegerMatMul}); a Gather from such a table (one scale per row) gathers codes and
 *       scales and multiplies them;
 *   <li>any other quantized fp32 weight read by the graph (a {@code Conv}, {@code LSTM} or {@code
 *       GRU} weight, a weight with block scales the operators above cannot take, a weight with
 *       several consumers) keeps its codes, one byte each, dequantized in the graph under its own
 *       name ({@link DequantizedWeight}: {@code DequantizeLinear} per axis from opset 13, ONNX
 *       Runtime's {@code com.microsoft.DequantizeLinear} below, the model's opset unchanged);
 *   <li>everything else is decoded to its original dtype, and the report says why.
 * </ul>
 *
 * For a target older than 1.23, 8-bit MatMul weights become {@code DequantizeLinear + MatMul}
 * and embedding tables {@code GatherBlockQuantized} with uint4 data (4-bit, from 1.20) or a
 * {@code Gather} of codes dequantized after it ({@link OlderRuntimeForms}); codes of 2 or 3 bits
 * are widened to 4 bits instead of 8.
 *
 * Both operators need blocks of a power of two, at least 16. Scales are written as fp32 (the
 * type of the activations); codes and zero points are copied, so the model computes exactly the
 * values {@code cortexsdr} decodes.
 */
public final class QuantizedOnnxExporter {
  private QuantizedOnnxExporter() {}

  /** How one weight was written. */
  public record Form(String tensor, String form, String note) {}

  /**
   * The quantized model in memory.
   *
   * @param model the ONNX model; with {@code decodedInline = false} the initializers named in
   *     {@link #decoded()} carry dims and type but no data
   * @param forms how each weight was written, in file order
   * @param decoded the weights written decoded, in file order
   */
  public record Graph(ModelProto model, List<Form> forms, List<String> decoded) {}

  /**
   * A node that computes from a weight in place of its only consumer, for weights this exporter
   * would otherwise decode (such as SDR-sparse MatMul weights and a custom operator).
   */
  @FunctionalInterface
  public interface Rewriter {
    /**
     * The replacement of {@code user} for weight {@code entry}, or null to leave the weight to
     * the exporter.
     */
    Rewrite rewrite(CaiReader cai, CaiEntry entry, NodeProto user) throws IOException;
  }

  /**
   * A replacement node with the initializers it adds, how the weight is described in the report,
   * and the operator set its domain needs.
   */
  public record Rewrite(NodeProto node, List<TensorProto> initializers, Form form, OperatorSetIdProto opset) {}

  /**
   * Exports {@code cai} to {@code target}.
   *
   * @param accuracyLevel MatMulNBits {@code accuracy_level}: 0 computes in fp32; 4 lets ONNX
   *     Runtime quantize activations to int8 (faster, less exact); {@link NBitsAccuracy#MEASURED}
   *     picks 0 or 4 per weight shape by timing both
   * @return how each weight was written, in file order
   */
  public static List<Form> export(CaiReader cai, Path target, int accuracyLevel) throws IOException {
    return export(cai, target, accuracyLevel, OrtVersion.NEWEST);
  }

  /**
   * Exports {@code cai} to {@code target} for ONNX Runtime {@code runtime} or newer: no operator
   * or attribute that release lacks (see {@link OrtVersion}); weights whose newest form it lacks
   * take an older form that keeps them quantized ({@link OlderRuntimeForms}).
   *
   * @param runtime the oldest ONNX Runtime that must load the file; {@link OrtVersion#NEWEST}
   *     gives what {@link #export(CaiReader, Path, int)} writes
   * @return how each weight was written, in file order
   */
  public static List<Form> export(CaiReader cai, Path target, int accuracyLevel, OrtVersion runtime)
      throws IOException {
    Graph g = build(cai, accuracyLevel, true, null, int8Activations(cai), runtime);
    OnnxExporter.write(g.model(), target);
    return g.forms();
  }

  /**
   * The oldest ONNX Runtime an export keeps every quantized weight quantized in: {@link
   * OrtVersion#OLDEST} for a graph of ONNX Runtime's own operators (each quantized form has an
   * older form down to that release, see {@link OlderRuntimeForms}), {@link
   * OrtVersion#CUSTOM_OPS} when a {@link Rewriter} turns weights into custom operators
   * ({@code customOperators}).
   */
  public static OrtVersion oldestKeepingQuantized(boolean customOperators) {
    return customOperators ? OrtVersion.CUSTOM_OPS : OrtVersion.OLDEST;
  }

  /**
   * Builds the quantized model in memory, the same graph {@link #export} writes.
   *
   * @param decodedInline true puts decoded weights' data into the model; false leaves their
   *     initializers without data (a decoded weight held by a {@code Constant} node becomes such
   *     an initializer) so that a caller can supply them, e.g. with ONNX Runtime's {@code
   *     SessionOptions.addExternalInitializers}, without the model ever holding them
   * @param rewriter asked first for every weight with a single consumer; may be null
   */
  public static Graph build(CaiReader cai, int accuracyLevel, boolean decodedInline, Rewriter rewriter)
      throws IOException {
    return build(cai, accuracyLevel, decodedInline, rewriter, int8Activations(cai));
  }

  /**
   * As {@link #build(CaiReader, int, boolean, Rewriter)}, with the set of weights that compute
   * with int8 activations given instead of read from the manifest (to measure their effects).
   */
  public static Graph build(CaiReader cai, int accuracyLevel, boolean decodedInline, Rewriter rewriter,
      Set<String> int8Activations) throws IOException {
    return build(cai, accuracyLevel, decodedInline, rewriter, int8Activations, OrtVersion.NEWEST);
  }

  /**
   * As {@link #build(CaiReader, int, boolean, Rewriter, Set)}, for ONNX Runtime {@code runtime}
   * or newer (see {@link #export(CaiReader, Path, int, OrtVersion)}).
   */
  public static Graph build(CaiReader cai, int accuracyLevel, boolean decodedInline, Rewriter rewriter,
      Set<String> int8Activations, OrtVersion runtime) throws IOException {
    ModelProto model = OnnxExporter.storedModel(cai);
    String file = cai.path().toString();
    GraphWeights source = GraphWeights.of(file, model.getGraph());
    if (source.hasSubgraphWeights()) {
      // subgraph weights become main-graph initializers read from the subgraphs as outer-scope
      // values: one place for every weight, whatever its form (ONNX Runtime takes external
      // initializers for the main graph only)
      model = model.toBuilder().setGraph(source.hoist(model.getGraph(), cai::contains)).build();
    }
    GraphProto g = model.getGraph();
    GraphWeights weights = source.hasSubgraphWeights() ? GraphWeights.of(file, g) : source;
    // weights still inside a subgraph (one that also takes them as an input) go back decoded, in place
    Set<String> inPlace = new LinkedHashSet<>();
    Map<String, Form> forms = new LinkedHashMap<>();
    Map<NodeProto, List<NodeProto>> replaced = new HashMap<>();
    long opset = defaultOpset(model);
    List<TensorProto> added = new ArrayList<>();
    List<OperatorSetIdProto> opsets = new ArrayList<>();
    // weights without a quantized operator, dequantized in the graph under their own name (DequantizedWeight)
    List<NodeProto> prelude = new ArrayList<>();
    for (CaiEntry e : cai.entries()) {
      String name = e.name();
      GraphWeights.Weight w = weights.get(name);
      if (w != null && !w.topLevel()) {
        inPlace.add(name);
        forms.put(name, new Form(name, "decoded", "inside a subgraph that also takes it as an input"));
        continue;
      }
      List<NodeProto> users = weights.consumers(name);
      if (rewriter != null && users.size() == 1) {
        Rewrite r = rewriter.rewrite(cai, e, users.get(0));
        if (r != null) {
          replaced.put(users.get(0), List.of(r.node()));
          added.addAll(r.initializers());
          forms.put(name, r.form());
          if (r.opset() != null) {
            opsets.add(r.opset());
          }
          continue;
        }
      }
      CaiReader.StoredTensor stored = isQuantizedFloat32(e) ? cai.readStored(name) : null;
      // a tiered table exports as its widened view: one width and block for all rows, the same values
      // an entropy-coded table likewise, as int8 codes with a scale per row (ONNX has no Huffman decoder)
      QuantCodec.QuantizedTensor view = stored != null && stored.codec() instanceof TieredQuantCodec t
          ? t.widened(e.info(), stored.payload()) : stored != null && stored.codec() instanceof EntropyQuantCodec h
          ? h.widened(e.info(), stored.payload()) : null;
      QuantCodec q = view != null ? view.codec() : stored != null && stored.codec() instanceof QuantCodec c ? c : null;
      if (q == null) {
        // codebook levels (a table lookup) have no ONNX operator; float32 is the exact form
        boolean codebook = e.codec() == dev.selfbyt.cortexsdr.core.codec.CodecId.CODEBOOK || stored != null
            && stored.codec() instanceof TieredQuantCodec t && t.tiers().stream().anyMatch(c -> !(c instanceof QuantCodec));
        forms.put(name, new Form(name, "decoded", e.nmse() == 0 ? "lossless" : codebook
            ? "codebook levels have no ONNX operator: widened to float32 (" + e.info().numel() * 4 + " bytes)"
            : "codec has no ONNX operator"));
        continue;
      }
      String tiered = view == null ? "" : stored.codec() instanceof EntropyQuantCodec
          ? ", Huffman codes widened to 8 bits per value" : ", " + stored.codec().describe() + " widened to one width";
      if (q.granularity() == Granularity.CHANNEL && users.size() == 1 && e.info().dtype() == DType.FLOAT32) {
        NodeProto user = users.get(0);
        String why = IntegerMatMul.problem(user, name, e.info(), q);
        if (why == null) {
          QuantCodec.QuantizedTensor qt = view != null ? view : q.unpack(e.info(), stored.payload());
          if (user.getOpType().equals("Gather")) {
            replaced.put(user, IntegerMatMul.gatherRows(user, name, qt, added));
            forms.put(name, new Form(name, "Gather int8 per-row", tiered.replaceFirst("^, ", "")));
            continue;
          }
          boolean dynamic = int8Activations.contains(name) && opset >= 11; // DynamicQuantizeLinear's opset
          replaced.put(user, dynamic ? IntegerMatMul.dynamic(user, name, e.info(), qt, added)
              : IntegerMatMul.weightOnly(user, name, e.info(), qt, added));
          forms.put(name, new Form(name, dynamic ? "MatMulInteger int8 per-channel, int8 activations"
              : "int8 per-channel, dequantized by Cast and Mul", dynamic ? ""
              : int8Activations.contains(name) ? "fp32 activations: opset " + opset + " has no DynamicQuantizeLinear"
              : "fp32 activations (not in int8Activations)"));
          continue;
        }
        forms.put(name, dequantized(name, e, q, stored, users, why, opset, prelude, added));
        continue;
      }
      String why = blockProblem(q, e.info());
      if (why != null) {
        forms.put(name, dequantized(name, e, q, stored, users, why, opset, prelude, added));
        continue;
      }
      if (users.size() != 1) {
        forms.put(name, dequantized(name, e, q, stored, users, users.size() + " consumers", opset, prelude, added));
        continue;
      }
      NodeProto user = users.get(0);
      boolean plainDomain = user.getDomain().isEmpty() || user.getDomain().equals("ai.onnx");
      // below 1.23 (no 8-bit MatMulNBits) codes of 2 or 3 bits take 4 bits with their own zero points, exactly
      int bits = q.bits() == 4 || (!runtime.hasMatMulNBits8() && q.bits() < 4) ? 4 : 8;
      String widened = (q.bits() == bits ? "" : ", " + q.bits() + "-bit codes widened to " + bits + " bits") + tiered
          + (q.superScales() ? ", super-block scales as fp32" : "");
      QuantCodec.QuantizedTensor qt = view != null ? view : q.unpack(e.info(), stored.payload());
      // a node short of its two inputs (a damaged graph) keeps the decoded weight, for ONNX Runtime to refuse
      boolean twoInputs = user.getInputCount() == 2;
      String block = " block" + q.blockSize();
      if (plainDomain && twoInputs && user.getOpType().equals("MatMul") && user.getInput(1).equals(name)
          && e.info().rank() == 2 && e.info().reductionAxis() == 0) {
        if (bits == 4 || runtime.hasMatMulNBits8()) {
          replaced.put(user, List.of(matMulNBits(user, name, e.info(), qt, bits, accuracyLevel, added)));
          forms.put(name, new Form(name, "MatMulNBits int" + bits + block, widened.isEmpty() ? "" : widened.substring(2)));
        } else {
          replaced.put(user, OlderRuntimeForms.dequantizeLinearMatMul(user, name, qt, opset, added));
          forms.put(name, new Form(name, "DequantizeLinear int8" + block + " + MatMul", "MatMulNBits int8 needs ONNX Runtime "
              + OrtVersion.EIGHT_BIT_BLOCKS + ", the target is " + runtime + widened));
        }
      } else if (plainDomain && twoInputs && user.getOpType().equals("Gather") && user.getInput(0).equals(name)
          && OnnxAttributes.intAttr(user, "axis", 0) == 0 && e.info().rank() == 2 && e.info().reductionAxis() == 1) {
        if (runtime.hasGatherBlockQuantizedBits()) {
          replaced.put(user, List.of(gatherBlockQuantized(user, name, e.info(), qt, bits, added)));
          forms.put(name, new Form(name, "GatherBlockQuantized int" + bits + block, widened.isEmpty() ? "" : widened.substring(2)));
        } else if (q.bits() <= 4 && runtime.hasGatherBlockQuantizedUint4()) {
          replaced.put(user, List.of(OlderRuntimeForms.gatherBlockQuantizedUint4(user, name, qt, added)));
          forms.put(name, new Form(name, "GatherBlockQuantized int4" + block, "uint4 data without bits (the form of "
              + "ONNX Runtime " + OrtVersion.GATHER_BLOCK_QUANTIZED + " to 1.22)" + widened));
        } else {
          replaced.put(user, OlderRuntimeForms.gatherThenDequantize(user, name, qt, opset, added));
          forms.put(name, new Form(name, "Gather int8" + block + ", dequantized after the gather",
              "GatherBlockQuantized " + (q.bits() <= 4 ? "needs ONNX Runtime " + OrtVersion.GATHER_BLOCK_QUANTIZED
                  : "int8 needs ONNX Runtime " + OrtVersion.EIGHT_BIT_BLOCKS) + ", the target is " + runtime
                  + (q.bits() == 8 ? "" : ", " + q.bits() + "-bit codes stored one per byte")));
        }
      } else if (!twoInputs && (user.getOpType().equals("MatMul") || user.getOpType().equals("Gather"))) {
        forms.put(name, new Form(name, "decoded", user.getOpType() + " node with " + user.getInputCount() + " inputs"));
      } else {
        forms.put(name, dequantized(name, e, q, stored, users, "used by " + user.getOpType()
            + ", which has no quantized operator", opset, prelude, added));
      }
    }
    if (java.util.stream.Stream.concat(replaced.values().stream().flatMap(List::stream), prelude.stream())
        .anyMatch(n -> n.getDomain().equals("com.microsoft"))) {
      opsets.add(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1).build());
    }
    Set<String> decoded = new LinkedHashSet<>();
    forms.forEach((k, v) -> {
      if (v.form().equals("decoded")) {
        decoded.add(k);
      }
    });

    // weights without a quantized form go back decoded, as in the decoded export, or stay
    // data-less initializers for the caller to supply
    GraphProto dg = decodedInline || !inPlace.isEmpty()
        ? OnnxExporter.withWeights(model, name -> decodedInline && decoded.contains(name) || inPlace.contains(name)
            ? cai.read(name).bytes() : null).getGraph()
        : g;
    GraphProto.Builder gb = dg.toBuilder().clearNode().clearInitializer();
    List<TensorProto> lifted = new ArrayList<>();
    for (NodeProto n : dg.getNodeList()) {
      List<NodeProto> r = replaced.get(n);
      boolean constant = n.getOpType().equals("Constant") && n.getOutputCount() == 1;
      if (r != null) {
        gb.addAllNode(r);
      } else if (constant && isQuantized(forms, n.getOutput(0))) {
        continue; // a quantized Constant's data now lives in the replacing node's initializers
      } else if (constant && !decodedInline && decoded.contains(n.getOutput(0)) && constantTensor(n) != null) {
        lifted.add(constantTensor(n).toBuilder().setName(n.getOutput(0)).build());
      } else {
        gb.addNode(replacedInside(n, replaced));
      }
    }
    List<NodeProto> casts = new ArrayList<>(prelude);
    if (!prelude.isEmpty()) { // a dequantized weight is a node output now, no longer a graph input (IR < 4)
      List<ai.onnx.proto.OnnxMl.ValueInfoProto> inputs = new ArrayList<>(gb.getInputList());
      gb.clearInput();
      inputs.stream().filter(v -> !isQuantized(forms, v.getName())).forEach(gb::addInput);
    }
    for (TensorProto t : dg.getInitializerList()) {
      if (isQuantized(forms, t.getName())) {
        continue;
      }
      float[] half = decodedInline && decoded.contains(t.getName()) ? halfExact(t) : null;
      if (half != null) {
        // fp16 numbers (such as int8-fast's smoothing factors and split-off outlier rows) at half
        // the bytes, exactly
        String h = t.getName() + "_fp16";
        gb.addInitializer(IntegerMatMul.halves(h, half, t.getDimsList().stream().mapToLong(Long::longValue).toArray()));
        casts.add(IntegerMatMul.cast(h + "_cast", h, t.getName()));
      } else {
        gb.addInitializer(t);
      }
    }
    if (!casts.isEmpty()) {
      List<NodeProto> nodes = new ArrayList<>(casts);
      nodes.addAll(gb.getNodeList());
      gb.clearNode().addAllNode(nodes);
    }
    gb.addAllInitializer(lifted);
    gb.addAllInitializer(added);
    // residual Add + layer normalization as one SkipLayerNormalization, where provably safe
    List<LayerNormFusion.Fusion> norms = LayerNormFusion.plan(g, name -> {
      try {
        return cai.contains(name) ? cai.read(name).bytes() : null;
      } catch (IOException | RuntimeException e) {
        return null; // not a float constant: no fusion
      }
    });
    if (!norms.isEmpty() && LayerNormFusion.apply(gb, norms) > 0) {
      opsets.add(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1).build());
    }
    ModelProto.Builder mb = model.toBuilder().setGraph(gb);
    for (OperatorSetIdProto o : opsets) {
      boolean has = mb.getOpsetImportList().stream().anyMatch(x -> x.getDomain().equals(o.getDomain()));
      if (!has) {
        mb.addOpsetImport(o);
      }
    }
    return new Graph(mb.build(), new ArrayList<>(forms.values()), List.copyOf(decoded));
  }

  /**
   * The form of a quantized weight without a quantized operator: {@link DequantizedWeight} when it
   * has consumers in the graph, else decoded.
   */
  private static Form dequantized(String name, CaiEntry e, QuantCodec q, CaiReader.StoredTensor stored,
      List<NodeProto> users, String why, long opset, List<NodeProto> prelude, List<TensorProto> added) {
    if (users.isEmpty() || e.info().dtype() != DType.FLOAT32) {
      return new Form(name, "decoded", why);
    }
    QuantCodec.QuantizedTensor qt = q.unpack(e.info(), stored.payload());
    prelude.addAll(DequantizedWeight.nodes(name, e.info(), qt, opset, added));
    return new Form(name, DequantizedWeight.form(opset, qt), why);
  }

  /** {@code n} with the replacements applied inside its subgraphs, at any depth. */
  private static NodeProto replacedInside(NodeProto n, Map<NodeProto, List<NodeProto>> replaced) {
    if (replaced.isEmpty() || n.getAttributeList().stream().noneMatch(a -> a.hasG() || a.getGraphsCount() > 0)) {
      return n;
    }
    NodeProto.Builder nb = n.toBuilder();
    for (int a = 0; a < n.getAttributeCount(); a++) {
      AttributeProto attr = n.getAttribute(a);
      if (attr.hasG()) {
        nb.setAttribute(a, nb.getAttribute(a).toBuilder().setG(replacedIn(attr.getG(), replaced)));
      }
      for (int k = 0; k < attr.getGraphsCount(); k++) {
        nb.setAttribute(a, nb.getAttribute(a).toBuilder().setGraphs(k, replacedIn(attr.getGraphs(k), replaced)));
      }
    }
    return nb.build();
  }

  private static GraphProto replacedIn(GraphProto g, Map<NodeProto, List<NodeProto>> replaced) {
    GraphProto.Builder gb = g.toBuilder().clearNode();
    for (NodeProto n : g.getNodeList()) {
      List<NodeProto> r = replaced.get(n);
      if (r != null) {
        gb.addAllNode(r);
      } else {
        gb.addNode(replacedInside(n, replaced));
      }
    }
    return gb.build();
  }

  /** The values of an fp32 tensor of at least 64 fp16 numbers (not all zero), else null. */
  private static float[] halfExact(TensorProto t) {
    long n = 1;
    for (long d : t.getDimsList()) {
      n *= d;
    }
    if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE || t.getDimsCount() == 0 || n < 64
        || t.getRawData().size() != 4 * n) {
      return null;
    }
    float[] v = new float[(int) n];
    t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    boolean nonZero = false;
    for (float x : v) {
      nonZero |= x != 0;
    }
    return nonZero && IntegerMatMul.halfExact(v) ? v : null;
  }

  /** The manifest's {@code int8Activations}: weights whose MatMul takes int8 activations. */
  public static Set<String> int8Activations(CaiReader cai) {
    Object v = cai.manifest().get("int8Activations");
    Set<String> out = new LinkedHashSet<>();
    if (v instanceof List<?> l) {
      for (Object o : l) {
        if (o instanceof String s) {
          out.add(s);
        }
      }
    }
    return out;
  }

  private static long defaultOpset(ModelProto m) {
    for (OperatorSetIdProto o : m.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        return o.getVersion();
      }
    }
    return 0;
  }

  private static TensorProto constantTensor(NodeProto constant) {
    for (AttributeProto a : constant.getAttributeList()) {
      if (a.getName().equals("value") && a.hasT()) {
        return a.getT();
      }
    }
    return null;
  }

  private static boolean isQuantizedFloat32(CaiEntry e) {
    return (e.codec() == dev.selfbyt.cortexsdr.core.codec.CodecId.QUANT
        || e.codec() == dev.selfbyt.cortexsdr.core.codec.CodecId.TIERED
        || e.codec() == dev.selfbyt.cortexsdr.core.codec.CodecId.ENTROPY) && e.info().dtype() == DType.FLOAT32;
  }

  private static boolean isQuantized(Map<String, Form> forms, String name) {
    Form f = forms.get(name);
    return f != null && !f.form().equals("decoded");
  }

  private static String blockProblem(QuantCodec q, TensorInfo info) {
    if (q.granularity() != Granularity.BLOCK) {
      return q.granularity().name().toLowerCase(java.util.Locale.ROOT) + " scales (the operators need blocks)";
    }
    int b = q.blockSize();
    if (b < 16 || Integer.bitCount(b) != 1) {
      return "block " + b + " (the operators need a power of two >= 16)";
    }
    return null;
  }

  private static NodeProto matMulNBits(NodeProto mm, String name, TensorInfo info, QuantCodec.QuantizedTensor qt,
      int bits, int accuracyLevel, List<TensorProto> added) {
    int k = (int) info.shape()[0];
    int n = (int) info.shape()[1];
    int block = qt.codec().blockSize();
    int kBlocks = (k + block - 1) / block;
    int blob = block * bits / 8;
    byte[] b = new byte[n * kBlocks * blob];
    for (int f = 0; f < n; f++) {
      packRow(qt.codes(f), bits, b, f * kBlocks * blob);
    }
    String base = name + "_MatMulNBits";
    added.add(tensor(base + "_B", TensorProto.DataType.UINT8_VALUE, b, n, kBlocks, blob));
    added.add(floats(base + "_scales", qt.scales(), n * kBlocks));
    NodeProto.Builder nb = NodeProto.newBuilder()
        .setName(mm.getName().isEmpty() ? base : mm.getName() + "_nbits")
        .setOpType("MatMulNBits").setDomain("com.microsoft")
        .addInput(mm.getInput(0)).addInput(base + "_B").addInput(base + "_scales")
        .addAllOutput(mm.getOutputList())
        .addAttribute(intAttr("K", k)).addAttribute(intAttr("N", n))
        .addAttribute(intAttr("bits", bits)).addAttribute(intAttr("block_size", block));
    int level = accuracyLevel == NBitsAccuracy.MEASURED ? NBitsAccuracy.choose(k, n, bits, block) : accuracyLevel;
    if (level > 0) {
      nb.addAttribute(intAttr("accuracy_level", level));
    }
    if (!qt.codec().symmetric()) {
      added.add(tensor(base + "_zero_points", TensorProto.DataType.UINT8_VALUE,
          packedZeroPoints(qt.zeroPoints(), n, kBlocks, bits), n * ((kBlocks * bits + 7) / 8)));
      nb.addInput(base + "_zero_points");
    } else if (bits != qt.codec().bits()) {
      // widened symmetric codes keep their own zero point, which is not the 8-bit default
      added.add(tensor(base + "_zero_points", TensorProto.DataType.UINT8_VALUE,
          packedZeroPoints(qt.zeroPoints(), n, kBlocks, bits), n * ((kBlocks * bits + 7) / 8)));
      nb.addInput(base + "_zero_points");
    }
    return nb.build();
  }

  private static NodeProto gatherBlockQuantized(NodeProto gather, String name, TensorInfo info,
      QuantCodec.QuantizedTensor qt, int bits, List<TensorProto> added) {
    int rows = (int) info.shape()[0];
    int d = (int) info.shape()[1];
    int block = qt.codec().blockSize();
    int blocks = (d + block - 1) / block;
    int rowBytes = (d * bits + 7) / 8;
    byte[] data = new byte[rows * rowBytes];
    for (int r = 0; r < rows; r++) {
      packRow(qt.codes(r), bits, data, r * rowBytes);
    }
    String base = name + "_GatherBlockQuantized";
    added.add(tensor(base + "_data", TensorProto.DataType.UINT8_VALUE, data, rows, rowBytes));
    added.add(floats(base + "_scales", qt.scales(), rows, blocks));
    NodeProto.Builder nb = NodeProto.newBuilder()
        .setName(gather.getName().isEmpty() ? base : gather.getName() + "_quantized")
        .setOpType("GatherBlockQuantized").setDomain("com.microsoft")
        .addInput(base + "_data").addInput(gather.getInput(1)).addInput(base + "_scales")
        .addAllOutput(gather.getOutputList())
        .addAttribute(intAttr("gather_axis", 0)).addAttribute(intAttr("quantize_axis", 1))
        .addAttribute(intAttr("block_size", block)).addAttribute(intAttr("bits", bits));
    if (!qt.codec().symmetric() || bits != qt.codec().bits()) {
      int zpCols = (blocks * bits + 7) / 8;
      added.add(tensor(base + "_zero_points", TensorProto.DataType.UINT8_VALUE,
          packedZeroPoints(qt.zeroPoints(), rows, blocks, bits), rows, zpCols));
      nb.addInput(base + "_zero_points");
    }
    return nb.build();
  }

  /** Codes of one fiber packed LSB first at {@code bits} per code (4: low nibble first). */
  private static void packRow(byte[] codes, int bits, byte[] out, int off) {
    PackedCodes.pack(codes, 0, codes.length, bits, out, off);
  }

  /** Zero points, one row of {@code cols} per fiber, each row packed and padded to a byte. */
  private static byte[] packedZeroPoints(int[] zps, int rows, int cols, int bits) {
    int rowBytes = (int) PackedCodes.bytes(cols, bits);
    byte[] out = new byte[rows * rowBytes];
    for (int r = 0; r < rows; r++) {
      PackedCodes.packInts(zps, r * cols, cols, bits, out, r * rowBytes);
    }
    return out;
  }

  /** An initializer holding {@code data} as raw bytes. */
  static TensorProto tensor(String name, int type, byte[] data, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(data));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  /** An fp32 initializer. */
  static TensorProto floats(String name, float[] v, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return tensor(name, TensorProto.DataType.FLOAT_VALUE, b.array(), dims);
  }

  private static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }
}
