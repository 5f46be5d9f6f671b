package dev.selfbyt.cortexsdr.spark;

import java.util.Locale;

/** Where the executors run a model. */
public enum ModelRuntime {
  /**
   * ONNX Runtime: a {@code .cai} opened with {@code CaiOrt} (quantized weights stay quantized in
   * ONNX Runtime), an {@code .onnx} file as a plain session.
   */
  ONNX_RUNTIME,
  /** The DJL engine {@code CortexSDR} ({@code .cai} only): weights stay compressed in the Java executor. */
  DJL;

  /** {@code ort} / {@code onnxruntime} or {@code djl}, any case. */
  public static ModelRuntime parse(String s) {
    String k = s.trim().toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    return switch (k) {
      case "ort", "onnxruntime" -> ONNX_RUNTIME;
      case "djl", "cortexsdr" -> DJL;
      default -> throw new IllegalArgumentException("runtime '" + s + "': use ort or djl");
    };
  }
}
