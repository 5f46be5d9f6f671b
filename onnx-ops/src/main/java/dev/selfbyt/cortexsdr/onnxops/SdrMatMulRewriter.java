package dev.selfbyt.cortexsdr.onnxops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.codec.CodecId;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.util.Locale;

/**
 * Turns a MatMul whose right-hand side is an SDR-coded {@code [K, N]} weight into {@code
 * ai.cortexsdr.SdrMatMul}, and a 2-D Conv (group 1) whose weight is SDR-coded into {@code
 * ai.cortexsdr.SdrConv}, when the weight is at least {@link #minSparsity()} sparse; below that,
 * returns null so the exporter decodes the weight (dense MatMul is faster there: see
 * docs/benchmarks.md). Get one with {@link #withMinSparsity} or {@link #fromSystemProperty}.
 */
public final class SdrMatMulRewriter implements QuantizedOnnxExporter.Rewriter {
  /** System property overriding the default threshold (a fraction in [0, 1]). */
  public static final String MIN_SPARSITY_PROPERTY = "dev.selfbyt.cortexsdr.onnxops.sdr_min_sparsity";

  /**
   * Default threshold: from the SdrMatMul benchmark on this project's machine, SdrMatMul beats
   * ONNX Runtime's dense fp32 MatMul at 75% sparsity and above on every shape measured at M=1.
   */
  public static final double DEFAULT_MIN_SPARSITY = 0.75;

  private final double minSparsity;
  private final java.util.concurrent.atomic.AtomicInteger rewritten = new java.util.concurrent.atomic.AtomicInteger();

  private SdrMatMulRewriter(double minSparsity) {
    if (!(minSparsity >= 0 && minSparsity <= 1)) {
      throw new IllegalArgumentException("minimum sparsity " + minSparsity + " is not a fraction in [0, 1]");
    }
    this.minSparsity = minSparsity;
  }

  public static SdrMatMulRewriter withMinSparsity(double minSparsity) {
    return new SdrMatMulRewriter(minSparsity);
  }

  /** The threshold from {@value #MIN_SPARSITY_PROPERTY}, else {@value #DEFAULT_MIN_SPARSITY}. */
  public static SdrMatMulRewriter fromSystemProperty() {
    String v = System.getProperty(MIN_SPARSITY_PROPERTY);
    try {
      return new SdrMatMulRewriter(v == null ? DEFAULT_MIN_SPARSITY : Double.parseDouble(v.trim()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("-D" + MIN_SPARSITY_PROPERTY + "=" + v + ": " + e.getMessage(), e);
    }
  }

  public double minSparsity() {
    return minSparsity;
  }

  /** How many weights this rewriter turned into SdrMatMul so far, over all models it was used on. */
  public int rewritten() {
    return rewritten.get();
  }

  @Override
  public QuantizedOnnxExporter.Rewrite rewrite(CaiReader cai, CaiEntry e, NodeProto user) throws IOException {
    boolean plain = user.getDomain().isEmpty() || user.getDomain().equals("ai.onnx");
    if (plain && user.getOpType().equals("Conv")) {
      return rewriteConv(cai, e, user);
    }
    if (e.codec() != CodecId.SDR || e.info().dtype() != DType.FLOAT32 || e.info().rank() != 2
        || e.info().reductionAxis() != 0 || !plain || !user.getOpType().equals("MatMul")
        || user.getInputCount() != 2 || !user.getInput(1).equals(e.name())) {
      return null;
    }
    SdrMatMulWeights w = SdrMatMulWeights.fromCai(cai, e.name());
    if (w.sparsity() < minSparsity) {
      return null;
    }
    rewritten.incrementAndGet();
    String prefix = e.name() + "_SdrMatMul";
    String node = user.getName().isEmpty() ? prefix : user.getName() + "_sdr";
    String how = "SdrMatMul " + (w.bits() == 32 ? "fp32" : "int" + w.bits())
        + String.format(Locale.ROOT, " %.0f%% sparse", 100 * w.sparsity());
    return new QuantizedOnnxExporter.Rewrite(w.node(node, user.getInput(0), user.getOutput(0), prefix),
        w.initializers(prefix), new QuantizedOnnxExporter.Form(e.name(), how, w.bytes() + " bytes"),
        SdrMatMulWeights.opset());
  }

  /**
   * A 2-D {@code Conv} (group 1, explicit or no padding) whose weight is SDR-coded becomes {@code
   * SdrConv}; any other Conv stays as it is.
   */
  private QuantizedOnnxExporter.Rewrite rewriteConv(CaiReader cai, CaiEntry e, NodeProto user) throws IOException {
    if (e.codec() != CodecId.SDR || e.info().dtype() != DType.FLOAT32 || e.info().rank() != 4
        || e.info().role() != TensorRole.CONV_WEIGHT || user.getInputCount() < 2 || !user.getInput(1).equals(e.name())
        || user.getInput(0).equals(e.name())) {
      return null;
    }
    long[] shape = e.info().shape();
    long[] kernel = {shape[2], shape[3]};
    long[] pads = {0, 0, 0, 0};
    long[] strides = {1, 1};
    long[] dilations = {1, 1};
    for (AttributeProto a : user.getAttributeList()) {
      switch (a.getName()) {
        case "group" -> {
          if (a.getI() != 1) {
            return null; // grouped and depthwise kernels: SdrConv computes group 1 only
          }
        }
        case "auto_pad" -> {
          if (!a.getS().toStringUtf8().equals("NOTSET")) {
            return null; // SAME_* padding depends on the input size
          }
        }
        case "kernel_shape" -> {
          if (a.getIntsCount() != 2 || a.getInts(0) != kernel[0] || a.getInts(1) != kernel[1]) {
            return null;
          }
        }
        case "pads" -> {
          if (!copy(a, pads)) {
            return null;
          }
        }
        case "strides" -> {
          if (!copy(a, strides)) {
            return null;
          }
        }
        case "dilations" -> {
          if (!copy(a, dilations)) {
            return null;
          }
        }
        default -> {
          return null; // an attribute this rewrite does not know: keep ONNX's Conv
        }
      }
    }
    SdrMatMulWeights w = SdrMatMulWeights.fromCai(cai, e.name());
    if (w.sparsity() < minSparsity) {
      return null;
    }
    rewritten.incrementAndGet();
    String prefix = e.name() + "_SdrConv";
    String node = user.getName().isEmpty() ? prefix : user.getName() + "_sdr";
    String bias = user.getInputCount() > 2 && !user.getInput(2).isEmpty() ? user.getInput(2) : null;
    String how = "SdrConv " + (w.bits() == 32 ? "fp32" : "int" + w.bits())
        + String.format(Locale.ROOT, " %.0f%% sparse", 100 * w.sparsity());
    return new QuantizedOnnxExporter.Rewrite(
        w.convNode(node, user.getInput(0), bias, user.getOutput(0), prefix, kernel, pads, strides, dilations),
        w.initializers(prefix), new QuantizedOnnxExporter.Form(e.name(), how, w.bytes() + " bytes"),
        SdrMatMulWeights.opset());
  }

  private static boolean copy(AttributeProto a, long[] out) {
    if (a.getIntsCount() != out.length) {
      return false;
    }
    for (int i = 0; i < out.length; i++) {
      if (a.getInts(i) < 0) {
        return false;
      }
      out[i] = a.getInts(i);
    }
    return true;
  }
}
