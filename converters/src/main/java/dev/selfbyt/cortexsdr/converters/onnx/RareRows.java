package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Embedding rows by token frequency: counts, on calibration inputs, how often each row of a
 * table is gathered, then stores the rows read at least {@code minCount} times with their planned
 * codec and the others with a narrower one ({@link TieredQuantCodec}). A text encoder's
 * vocabulary table is often half its weights, and the text a model meets reads a small part of it.
 *
 * <p>Only tables that a {@code Gather} (axis 0) of the main graph indexes straight by a graph input
 * are counted: those indices are in the calibration samples. Tables gathered by computed indices
 * (position embeddings) are left alone.
 */
public final class RareRows {
  private RareRows() {}

  /**
   * How often each row of each directly indexed table is read on {@code samples}: table name to
   * one count per row. Indices out of range are not counted (the model would refuse them).
   */
  public static Map<String, long[]> counts(OnnxModelReader onnx, List<Map<String, OnnxCalibrator.Input>> samples) {
    Map<String, long[]> out = new LinkedHashMap<>();
    tables(onnx).forEach((index, t) -> {
      for (String table : t) {
        TensorInfo info = onnx.tensors().stream().filter(x -> x.name().equals(table)).findFirst().orElseThrow();
        long[] c = out.computeIfAbsent(table, k -> new long[Math.toIntExact(info.shape()[0])]);
        for (Map<String, OnnxCalibrator.Input> s : samples) {
          OnnxCalibrator.Input in = s.get(index);
          if (in == null || in.int64() == null) {
            continue;
          }
          for (long id : in.int64()) {
            long row = id < 0 ? id + c.length : id; // Gather takes negative indices from the end
            if (row >= 0 && row < c.length) {
              c[(int) row]++;
            }
          }
        }
      }
    });
    return out;
  }

  /**
   * The directly indexed tables: graph input name to the stored rank-2 tables a {@code Gather}
   * (axis 0) of the main graph reads by it, in node order.
   */
  public static Map<String, List<String>> tables(OnnxModelReader onnx) {
    GraphProto g = onnx.strippedModel().getGraph();
    Set<String> inputs = g.getInputList().stream().map(ValueInfoProto::getName).collect(Collectors.toSet());
    Map<String, TensorInfo> tables = new HashMap<>();
    for (TensorInfo t : onnx.tensors()) {
      if (t.rank() == 2 && t.reductionAxis() == 1) {
        tables.put(t.name(), t);
      }
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (NodeProto n : g.getNodeList()) {
      if (!n.getOpType().equals("Gather") || n.getInputCount() != 2 || axis(n) != 0) {
        continue;
      }
      TensorInfo t = tables.get(n.getInput(0));
      if (t == null || !inputs.contains(n.getInput(1)) || tables.containsKey(n.getInput(1))) {
        continue;
      }
      List<String> read = out.computeIfAbsent(n.getInput(1), k -> new java.util.ArrayList<>());
      if (!read.contains(t.name())) {
        read.add(t.name());
      }
    }
    return out;
  }

  private static long axis(NodeProto n) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals("axis")).mapToLong(a -> a.getI()).findFirst()
        .orElse(0);
  }

  /**
   * The tiered codec for a table: rows read at least {@code minCount} times keep {@code frequent},
   * the others take {@code rare}; null when every row is frequent (nothing to gain). Each tier is a
   * {@link QuantCodec} or a {@link dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec} (fitted
   * levels: at 2 bits the rare rows lose less than on the uniform grid).
   */
  public static TieredQuantCodec tiered(long[] counts, long minCount, TensorCodec frequent, TensorCodec rare) {
    byte[] tiers = new byte[counts.length];
    boolean any = false;
    for (int r = 0; r < counts.length; r++) {
      if (counts[r] < minCount) {
        tiers[r] = 1;
        any = true;
      }
    }
    return any ? TieredQuantCodec.of(List.of(frequent, rare)).assign(tiers) : null;
  }

  /** Rows read at least {@code minCount} times. */
  public static int frequentRows(long[] counts, long minCount) {
    int n = 0;
    for (long c : counts) {
      n += c >= minCount ? 1 : 0;
    }
    return n;
  }
}
