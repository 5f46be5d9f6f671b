package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The data inputs of an ONNX model (graph inputs that are not weights), as calibration and the
 * output check need them: element type, dimensions (fixed, or dynamic with their symbolic name),
 * and for integer inputs the largest value the model can take where the graph says it (the row
 * count of the embedding table a {@code Gather} looks the input up in). Get one with {@link
 * #of(OnnxModelReader)}.
 */
public final class ModelInputs {
  /**
   * One data input.
   *
   * @param dims the dimensions, -1 where dynamic
   * @param dimNames the symbolic name of each dynamic dimension ({@code dim_param}), "" where it
   *     has none or is fixed
   * @param vocabulary for an integer input looked up in a table: the table's row count; else -1
   */
  public record Spec(String name, int elemType, long[] dims, String[] dimNames, long vocabulary) {
    /** True for integer and bool inputs. */
    public boolean integral() {
      return !(elemType == DataType.FLOAT_VALUE || elemType == DataType.DOUBLE_VALUE
          || elemType == DataType.FLOAT16_VALUE || elemType == DataType.BFLOAT16_VALUE);
    }

    /** True when some dimension is dynamic. */
    public boolean dynamic() {
      for (long d : dims) {
        if (d < 0) {
          return true;
        }
      }
      return false;
    }

    /** The element type's name in lower case (float, int64, bool, ...). */
    public String typeName() {
      DataType t = DataType.forNumber(elemType);
      return t == null ? "type " + elemType : t.name().toLowerCase(Locale.ROOT);
    }

    /** Dimensions as {@code [1, sequence, 384]}. */
    public String describeDims() {
      StringBuilder b = new StringBuilder("[");
      for (int i = 0; i < dims.length; i++) {
        b.append(i > 0 ? ", " : "").append(dims[i] >= 0 ? Long.toString(dims[i])
            : dimNames[i].isEmpty() ? "?" : dimNames[i]);
      }
      return b.append(']').toString();
    }
  }

  private final List<Spec> specs;

  private ModelInputs(List<Spec> specs) {
    this.specs = specs;
  }

  /** The data inputs of {@code model}, in graph order. */
  public static ModelInputs of(OnnxModelReader model) {
    Map<String, TensorInfo> weights = new HashMap<>();
    for (TensorInfo t : model.tensors()) {
      weights.put(t.name(), t);
    }
    GraphProto g = model.strippedModel().getGraph();
    List<Spec> out = new ArrayList<>();
    for (ValueInfoProto in : g.getInputList()) {
      if (weights.containsKey(in.getName()) || !in.getType().hasTensorType()) {
        continue;
      }
      List<TensorShapeProto.Dimension> dl = in.getType().getTensorType().getShape().getDimList();
      long[] dims = new long[dl.size()];
      String[] names = new String[dl.size()];
      for (int i = 0; i < dims.length; i++) {
        TensorShapeProto.Dimension d = dl.get(i);
        dims[i] = d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : -1;
        names[i] = dims[i] < 0 && d.hasDimParam() ? d.getDimParam() : "";
      }
      int type = in.getType().getTensorType().getElemType();
      out.add(new Spec(in.getName(), type, dims, names, vocabulary(g, in.getName(), weights)));
    }
    return new ModelInputs(List.copyOf(out));
  }

  /** The inputs, in graph order. */
  public List<Spec> specs() {
    return specs;
  }

  /** The input named {@code name}, or null. */
  public Spec get(String name) {
    for (Spec s : specs) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }

  /** These inputs but {@code names} (the state inputs of a stateful model, say). */
  public ModelInputs without(java.util.Collection<String> names) {
    return new ModelInputs(specs.stream().filter(s -> !names.contains(s.name())).toList());
  }

  /** Input names, for messages. */
  public List<String> names() {
    return specs.stream().map(Spec::name).toList();
  }

  /** Ops that pass integer ids through unchanged in value (shape or type only). */
  private static final Set<String> PASS_THROUGH = Set.of("Cast", "Unsqueeze", "Squeeze", "Reshape", "Flatten",
      "Identity", "Expand", "Transpose");

  /**
   * The row count of the smallest table a {@code Gather} (or {@code GatherBlockQuantized}) looks
   * {@code input} up in, following value-preserving ops; -1 when no weight table consumes it.
   * The smallest, because every lookup must stay in range.
   */
  private static long vocabulary(GraphProto g, String input, Map<String, TensorInfo> weights) {
    long best = -1;
    Set<String> values = new HashSet<>(List.of(input));
    for (NodeProto n : g.getNodeList()) { // graph order: producers come before consumers
      if (n.getInputCount() == 0) {
        continue;
      }
      if (PASS_THROUGH.contains(n.getOpType()) && values.contains(n.getInput(0))) {
        values.addAll(n.getOutputList());
      }
      if (n.getOpType().startsWith("Gather") && n.getInputCount() > 1 && values.contains(n.getInput(1))) {
        TensorInfo table = weights.get(n.getInput(0));
        if (table != null && table.rank() >= 1) {
          int axis = 0;
          for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals("axis")) {
              axis = (int) a.getI();
            }
          }
          axis = axis < 0 ? axis + table.rank() : axis;
          if (axis >= 0 && axis < table.rank()) {
            long rows = table.shape()[axis];
            best = best < 0 ? rows : Math.min(best, rows);
          }
        }
      }
    }
    return best;
  }
}
