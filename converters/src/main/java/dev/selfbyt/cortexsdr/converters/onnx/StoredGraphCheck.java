package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CorruptCaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.util.Arrays;
import java.util.Map;

/**
 * Checks that a {@code .cai} made from an ONNX model agrees with the graph it stores: every
 * weight the graph names (initializers and {@code Constant} values, in subgraphs too, under the
 * scoped names of {@link GraphWeights}) is in the archive, with the
 * dtype and shape the graph declares and the role and reduction axis its consumers imply (as
 * {@link OnnxModelReader} assigned them). Runtimes trust all of this: a role changed from MatMul
 * to Conv reorders how an SDR or quantized weight's fibers are read, and a missing weight breaks
 * the graph. It also checks the graph itself is well formed enough to run: every node input is
 * defined before it is used. {@code cortexsdr verify}, the DJL engine and {@code CaiOrt} call
 * {@link #check}.
 */
public final class StoredGraphCheck {
  private StoredGraphCheck() {}

  /**
   * Checks {@code cai}'s stored graph against its directory; a file whose source was not ONNX
   * passes (it has no graph to compare with).
   *
   * @throws CorruptCaiException naming the file and the first tensor that disagrees
   */
  public static void check(CaiReader cai) throws CaiException {
    Object src = cai.manifest().get("source");
    if (!(src instanceof Map<?, ?> m) || !"onnx".equals(m.get("format"))) {
      return;
    }
    String file = cai.path().toString();
    ModelProto model = OnnxExporter.storedModel(cai);
    Map<String, TensorInfo> expected;
    GraphWeights weights;
    try {
      weights = GraphWeights.of(file, model.getGraph());
      expected = OnnxModelReader.weightInfos(file, weights);
      // files written before subgraph support left subgraph weights in the graph with their data
      expected.keySet().removeIf(name -> !weights.get(name).topLevel() && holdsData(weights.get(name).tensor()));
    } catch (OnnxFormatException e) {
      throw new CorruptCaiException(file, e.tensor(), "graph segment: " + e.reason(), e);
    }
    if (model.getGraph().getNodeCount() == 0 || model.getGraph().getOutputCount() == 0) {
      throw new CorruptCaiException(file, null, "graph segment holds a graph without nodes or outputs: "
          + "it is damaged (the source model had both)");
    }
    checkDefinedBeforeUse(file, model.getGraph());
    for (CaiEntry e : cai.entries()) {
      if (!expected.containsKey(e.name())) {
        throw new CorruptCaiException(file, e.name(), "the archive holds this tensor but the graph does not name it: "
            + "the graph segment or the directory is damaged");
      }
    }
    for (TensorInfo want : expected.values()) {
      String name = want.name();
      if (!cai.contains(name)) {
        throw new CorruptCaiException(file, name, "the graph uses this weight but the archive does not hold it");
      }
      CaiEntry e = cai.entry(name);
      TensorInfo got = e.info();
      if (got.dtype() != want.dtype() || !Arrays.equals(got.shape(), want.shape())) {
        throw new CorruptCaiException(file, name, "stored as " + got.dtype() + " " + Arrays.toString(got.shape())
            + " but the graph declares " + want.dtype() + " " + Arrays.toString(want.shape()));
      }
      if ((got.role() != want.role() || got.reductionAxis() != want.reductionAxis()) && !asBefore(file, weights, got)) {
        throw new CorruptCaiException(file, name, "stored role " + got.role() + " (reduction axis "
            + got.reductionAxis() + ") does not match its use in the graph: " + want.role() + " (reduction axis "
            + want.reductionAxis() + ")");
      }
    }
  }

  /**
   * Whether {@code got} is the role a main-graph weight was given before subgraph support, when
   * only main-graph nodes counted (a weight read only inside an {@code If} branch was OTHER):
   * such files stay readable, every runtime handles their weights (decoded where the role does
   * not fit a quantized operator).
   */
  private static boolean asBefore(String file, GraphWeights weights, TensorInfo got) throws CorruptCaiException {
    GraphWeights.Weight w = weights.get(got.name());
    if (!w.topLevel()) {
      return false;
    }
    try {
      TensorInfo before = OnnxModelReader.mainGraphInfo(file, weights, got.name());
      return before.role() == got.role() && before.reductionAxis() == got.reductionAxis();
    } catch (OnnxFormatException e) {
      throw new CorruptCaiException(file, e.tensor(), "graph segment: " + e.reason(), e);
    }
  }

  /** Whether a tensor of the stored graph still carries its values (they were not stripped). */
  private static boolean holdsData(ai.onnx.proto.OnnxMl.TensorProto t) {
    return !t.getRawData().isEmpty() || t.getFloatDataCount() > 0 || t.getDoubleDataCount() > 0
        || t.getInt32DataCount() > 0 || t.getInt64DataCount() > 0 || t.getUint64DataCount() > 0
        || t.getExternalDataCount() > 0;
  }

  /**
   * Every input of a top-level node is a graph input, an initializer or the output of an earlier
   * node, as ONNX requires (graphs are topologically sorted): a damaged graph that reads a tensor
   * nothing defines, or loops, is refused here instead of failing in a runtime.
   */
  private static void checkDefinedBeforeUse(String file, ai.onnx.proto.OnnxMl.GraphProto g)
      throws CorruptCaiException {
    java.util.Set<String> defined = new java.util.HashSet<>();
    g.getInputList().forEach(v -> defined.add(v.getName()));
    g.getInitializerList().forEach(t -> defined.add(t.getName()));
    g.getSparseInitializerList().forEach(t -> defined.add(t.getValues().getName()));
    for (ai.onnx.proto.OnnxMl.NodeProto n : g.getNodeList()) {
      for (String in : n.getInputList()) {
        if (!in.isEmpty() && !defined.contains(in)) {
          throw new CorruptCaiException(file, null, "graph segment: node '" + n.getName() + "' (" + n.getOpType()
              + ") reads '" + in + "', which no graph input, weight or earlier node defines");
        }
      }
      defined.addAll(n.getOutputList());
    }
    for (ai.onnx.proto.OnnxMl.ValueInfoProto out : g.getOutputList()) {
      if (!defined.contains(out.getName())) {
        throw new CorruptCaiException(file, null, "graph segment: graph output '" + out.getName()
            + "' is defined by no node");
      }
    }
  }
}
