package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CorruptCaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.io.IOException;

/**
 * Weights of a {@code .cai} as executor {@link Value}s: quantized floating tensors stay quantized
 * ({@link QuantMatrix}), SDR tensors stay sparse ({@link SparseMatrix}), everything else is decoded
 * once. Use {@code name -> CaiWeights.load(cai, name)} as a {@link GraphExecutor.WeightSource}.
 *
 * <p>A weight named in the manifest's {@value #INT8_ACTIVATIONS} list (a JSON array of tensor
 * names) computes with int8 activations, as ONNX Runtime's {@code DynamicQuantizeLinear +
 * MatMulInteger} ({@link QuantMatrix#withInt8Activations}); it must be stored with 8-bit symmetric
 * per-channel codes.
 */
public final class CaiWeights {
  /** The manifest key listing the weights whose products take int8 activations ("W8A8"). */
  public static final String INT8_ACTIVATIONS = "int8Activations";

  private CaiWeights() {}

  /** True when the file's manifest lists {@code name} under {@value #INT8_ACTIVATIONS}. */
  static boolean int8Activations(CaiReader cai, String name) {
    Object list = cai.manifest().get(INT8_ACTIVATIONS);
    return list instanceof java.util.Collection<?> c && c.contains(name);
  }

  /** The tensor named {@code name}, or null when the file holds none. */
  public static Value load(CaiReader cai, String name) throws IOException {
    if (!cai.contains(name)) {
      return null;
    }
    CaiReader.StoredTensor s = cai.readStored(name);
    TensorInfo info = s.entry().info();
    try {
      if (info.dtype().isFloating() && s.codec() instanceof QuantCodec q) {
        if (int8Activations(cai, name)) {
          if (q.bits() < 7 || q.bits() > 8 || !q.symmetric() || q.granularity() == QuantCodec.Granularity.BLOCK
              || info.rank() != 2 || info.reductionAxis() != 0) {
            throw new CorruptCaiException(cai.path().toString(), name, "listed in the manifest's " + INT8_ACTIVATIONS
                + ", which needs a 2-D MatMul weight [K, N] with 7- or 8-bit symmetric per-channel codes, but it is "
                + java.util.Arrays.toString(info.shape()) + " stored as " + q.describe());
          }
          return Value.ofQuantized(info, QuantMatrix.withInt8Activations(q.unpack(info, s.payload())));
        }
        return Value.ofQuantized(info, QuantMatrix.of(q.unpack(info, s.payload())));
      }
      if (info.dtype().isFloating() && s.codec() instanceof TieredQuantCodec t && !int8Activations(cai, name)) {
        QuantCodec.QuantizedTensor view = t.widened(info, s.payload()); // one width for all rows, same values
        if (view != null) {
          return Value.ofQuantized(info, QuantMatrix.of(view));
        }
      }
      if (info.dtype().isFloating() && s.codec() instanceof EntropyQuantCodec h && !int8Activations(cai, name)) {
        QuantCodec.QuantizedTensor view = h.widened(info, s.payload()); // int8 codes, a scale per row: same values
        if (view != null) {
          return Value.ofQuantized(info, QuantMatrix.of(view));
        }
      }
      if (info.dtype().isFloating() && s.codec() instanceof SdrCodec sdr) {
        int fibers = Math.toIntExact(info.outer() * info.inner());
        return Value.ofSparse(info, SparseMatrix.of(sdr.unpack(info, s.payload()), fibers,
            Math.toIntExact(info.fiberLength())));
      }
      return OnnxValues.fromBytes(info.dtype(), info.shape(), s.codec().decode(info, s.payload()).bytes());
    } catch (RuntimeException e) {
      throw new CorruptCaiException(cai.path().toString(), name, "payload does not decode as "
          + s.codec().describe() + ": " + e.getMessage(), e);
    }
  }
}
