package dev.selfbyt.cortexsdr.onnxops;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * Registers the operators in whatever ONNX Runtime is on the class path and prints the outcome:
 * run by {@link OldRuntimeTest} in a JVM that has an older ONNX Runtime instead of 1.29.0.
 */
public final class OldRuntimeProbe {
  private OldRuntimeProbe() {}

  public static void main(String[] args) throws Exception {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      SdrOps.register(o);
      System.out.println("registered");
    } catch (OrtException e) {
      System.out.println("OrtException: " + e.getMessage());
    }
  }
}
