package dev.selfbyt.cortexsdr.spark;

import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.FileKind;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A loaded model that runs batches: named {@link Tensor}s in, named tensors out (in the model's
 * output order). Safe to call from several threads at once (the tasks of one executor share it).
 * Get one with {@link #open}; close it to free the model.
 */
public interface ModelRunner extends AutoCloseable {
  /** The model's input names, in the graph's order. */
  List<String> inputNames();

  /**
   * Runs one batch.
   *
   * @throws Exception what the runtime throws, with the model file named
   */
  Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception;

  /** What runs the model, for logs: runtime and file. */
  String describe();

  /**
   * Opens {@code model} (a {@code .cai}, or an {@code .onnx} for ONNX Runtime; judged by its
   * content) in {@code runtime}.
   *
   * @param threads intra-op threads (ONNX Runtime) or kernel threads (DJL); 0 for the runtime's default
   */
  static ModelRunner open(Path model, ModelRuntime runtime, int threads) throws Exception {
    FileKind kind = FileKind.of(model);
    if (kind != FileKind.CAI && kind != FileKind.ONNX) {
      throw new CaiException(model.toString(), null, "this is " + kind.description()
          + ", not a .cai archive or an ONNX model");
    }
    if (runtime == ModelRuntime.DJL) {
      if (kind != FileKind.CAI) {
        throw new CaiException(model.toString(), null, "the DJL engine CortexSDR runs .cai files; run an .onnx "
            + "model with ModelRuntime.ONNX_RUNTIME, or compress it first");
      }
      return DjlModelRunner.open(model, threads);
    }
    return OrtModelRunner.open(model, kind == FileKind.CAI, threads);
  }
}
