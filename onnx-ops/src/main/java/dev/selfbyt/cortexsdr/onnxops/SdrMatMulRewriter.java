package dev.selfbyt.cortexsdr.onnxops;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.codec.CodecId;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import java.io.IOException;
import java.util.Locale;

/**
 * Turns a MatMul whose right-hand side is an SDR-coded {@code [K, N]} weight into {@code
 * ai.cortexsdr.SdrMatMul} when the weight is at least {@link #minSparsity()} sparse; below that,
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
}
