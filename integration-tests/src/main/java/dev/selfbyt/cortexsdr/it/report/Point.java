package dev.selfbyt.cortexsdr.it.report;

import java.util.List;

/**
 * One file on the size/fidelity plane.
 *
 * @param model the model's name
 * @param kind the series it belongs to (e.g. {@code .cai decoded, ONNX Runtime}, {@code ONNX Runtime int8 twin})
 * @param variant the row's label
 * @param ratio how many times smaller than the fp32 file
 * @param fidelity the model's fidelity measure (1 is identical to fp32)
 */
public record Point(String model, String kind, String variant, double ratio, double fidelity) {
  /**
   * Whether no other point of the same model is at least as small and as faithful and better in one
   * (the Pareto frontier).
   */
  public boolean onFrontier(List<Point> all) {
    for (Point o : all) {
      if (o != this && o.model.equals(model) && o.ratio >= ratio && o.fidelity >= fidelity
          && (o.ratio > ratio || o.fidelity > fidelity)) {
        return false;
      }
    }
    return true;
  }
}
