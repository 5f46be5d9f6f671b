package dev.selfbyt.cortexsdr.core.tensor;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Where a model's tensors come from: their list (metadata only), the tensors themselves read on
 * demand, and an opaque graph blob stored as-is in the {@code .cai} graph segment. Converters
 * implement it for ONNX, TorchScript and SavedModel files; {@link InMemoryTensorSource} is the
 * simple one.
 *
 * <p>{@link #read} may be called from several threads at once, and must not keep what it returns:
 * the compression pipeline reads a tensor only when a worker is ready for it, so memory stays
 * bounded by the tensors in flight, not by the model.
 */
public interface TensorSource extends AutoCloseable {

  /** A short name of the source format ("onnx", "torchscript", ...), stored in the manifest. */
  String format();

  /** How error messages name this source: its file path for a file-backed source. */
  default String location() {
    return format() + " source";
  }

  /** Free-form model metadata stored in the manifest (producer, opset, ...). */
  default Map<String, String> metadata() {
    return Map.of();
  }

  /** The host graph with weight data stripped; empty when there is none. */
  byte[] graph() throws IOException;

  /** The tensors, in the order they are written. */
  List<TensorInfo> tensors() throws IOException;

  /** Reads one tensor's values. Thread-safe. */
  TensorData read(TensorInfo tensor) throws IOException;

  @Override
  default void close() throws IOException {}
}
