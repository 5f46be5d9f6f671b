package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.util.concurrent.ExecutionException;

/**
 * The error a calibration run on worker threads reports: the file, the weight being calibrated and
 * ONNX Runtime's own message (unwrapped from the worker's {@link ExecutionException}); an
 * interruption keeps the thread's interrupt flag set.
 */
final class CalibrationFailure {
  private CalibrationFailure() {}

  /** {@code e}: an {@code OrtException}, an {@link ExecutionException} or an {@link InterruptedException}. */
  static CaiException of(String location, String weight, Exception e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
      return new CaiException(location, weight, "calibration interrupted", e);
    }
    Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return new CaiException(location, weight, "calibration run failed: " + cause.getMessage(), cause);
  }
}
