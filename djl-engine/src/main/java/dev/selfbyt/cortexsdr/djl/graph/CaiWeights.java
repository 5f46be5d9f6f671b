package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
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
 */
public final class CaiWeights {
  private CaiWeights() {}

  /** The tensor named {@code name}, or null when the file holds none. */
  public static Value load(CaiReader cai, String name) throws IOException {
    if (!cai.contains(name)) {
      return null;
    }
    CaiReader.StoredTensor s = cai.readStored(name);
    TensorInfo info = s.entry().info();
    try {
      if (info.dtype().isFloating() && s.codec() instanceof QuantCodec q) {
        return Value.ofQuantized(info, QuantMatrix.of(q.unpack(info, s.payload())));
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
