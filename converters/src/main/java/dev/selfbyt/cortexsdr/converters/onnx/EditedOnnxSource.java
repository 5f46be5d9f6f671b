package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model as a calibration left it: the source's tensors plus the ones the calibration added
 * (scaling nodes' inputs), a changed graph, and notes added to the source's metadata. Subclasses
 * say what each tensor reads as.
 */
abstract class EditedOnnxSource implements TensorSource {
  final OnnxModelReader base;
  private final ModelProto graph;
  private final Map<String, TensorInfo> added;
  private final Map<String, String> notes;

  EditedOnnxSource(OnnxModelReader base, ModelProto graph, Map<String, TensorInfo> added, Map<String, String> notes) {
    this.base = base;
    this.graph = graph;
    this.added = added;
    this.notes = notes;
  }

  @Override
  public String format() {
    return base.format();
  }

  @Override
  public String location() {
    return base.location();
  }

  @Override
  public Map<String, String> metadata() {
    Map<String, String> m = new LinkedHashMap<>(base.metadata());
    m.putAll(notes);
    return m;
  }

  @Override
  public byte[] graph() {
    return graph.toByteArray();
  }

  /** An int64 tensor's values as its data (little-endian). */
  static TensorData longs(TensorInfo tensor, long[] values) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (long x : values) {
      b.putLong(x);
    }
    return TensorData.ofBytes(tensor, b.flip());
  }

  @Override
  public List<TensorInfo> tensors() {
    List<TensorInfo> all = new ArrayList<>(base.tensors());
    all.addAll(added.values());
    return all;
  }
}
