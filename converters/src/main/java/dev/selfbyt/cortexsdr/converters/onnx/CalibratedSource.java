package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.selfbyt.cortexsdr.core.calibrate.ActivationScaling;
import dev.selfbyt.cortexsdr.core.calibrate.Gptq;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.util.Map;

/**
 * What {@link OnnxCalibrator} returns: the source model with calibrated weights: same tensors,
 * GPTQ values and grids where computed, each measured against its original (scaled as stored,
 * where activation scaling applies), plus the tensors calibration added (inverse scales) and the
 * graph that uses them.
 */
/** The source model with calibrated weights: same tensors, GPTQ values and grids where computed. */
final class CalibratedSource extends EditedOnnxSource {
  private final Map<String, Gptq.Result> results;
  private final Map<String, float[]> scales;
  private final Map<String, float[]> addedValues;
  private Map<String, float[]> references = Map.of();
  private Map<String, long[]> integers = Map.of();

  CalibratedSource(OnnxModelReader base, ModelProto graph, Map<String, Gptq.Result> results,
      Map<String, float[]> scales, Map<String, TensorInfo> added, Map<String, float[]> addedValues,
      Map<String, String> metadata) {
    super(base, graph, added, metadata);
    this.scales = scales;
    this.results = results;
    this.addedValues = addedValues;
  }

  /**
   * The references of weights scaled in any layout (Conv, Gemm, recurrent: {@link LayerScaling}):
   * each weight's original multiplied by its scales, what its stored error is measured against.
   */
  CalibratedSource withReferences(Map<String, float[]> references) {
    this.references = references;
    return this;
  }

  /** The values of the int64 tensors calibration added (a reshape's shape, say). */
  CalibratedSource withIntegers(Map<String, long[]> integers) {
    this.integers = integers;
    return this;
  }

  @Override
  public TensorData read(TensorInfo tensor) throws IOException {
    float[] a = addedValues.get(tensor.name());
    if (a != null) {
      return TensorData.ofFloats(tensor, a);
    }
    long[] ints = integers.get(tensor.name());
    if (ints != null) {
      return longs(tensor, ints);
    }
    Gptq.Result r = results.get(tensor.name());
    if (r == null) {
      return base.read(tensor);
    }
    // errors are reported against the original weight (scaled as stored, where scaling applies)
    float[] original = base.read(tensor).floats();
    float[] s = scales.get(tensor.name());
    float[] scaledReference = references.get(tensor.name());
    if (scaledReference != null) {
      return TensorData.ofFloats(tensor, r.values()).withGrid(r.grid()).withReference(scaledReference);
    }
    float[] reference = s == null ? original
        : ActivationScaling.scaleRows(original, (int) tensor.shape()[0], (int) tensor.shape()[1], s);
    return TensorData.ofFloats(tensor, r.values()).withGrid(r.grid()).withReference(reference);
  }
}
