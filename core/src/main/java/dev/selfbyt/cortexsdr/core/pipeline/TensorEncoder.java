package dev.selfbyt.cortexsdr.core.pipeline;

import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.format.EncodedTensor;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Carries out a {@link TensorPlan} on one tensor: encodes with the plan's candidates, measures
 * the error of lossy encodings by decoding them, runs the zstd stage (kept only where it
 * shrinks), and returns the encoding chosen. Deterministic: the same tensor and plan always give
 * the same bytes. Thread-safe.
 */
public final class TensorEncoder {
  private final ZstdStage stage;

  /** @param stage the entropy stage, or null for none */
  public TensorEncoder(ZstdStage stage) {
    this.stage = stage;
  }

  public EncodedTensor encode(TensorData data, TensorPlan plan) {
    return switch (plan.kind()) {
      case LOSSLESS -> smallest(data, plan.candidates());
      case FIXED -> atMostLossless(data, encodeWith(data, plan.candidates().get(0)), plan);
      case BUDGET -> withinBudget(data, plan);
    };
  }

  /**
   * A lossy encoding that does not beat the raw size (one scale per few values, say) is not
   * worth its error: store the tensor losslessly instead.
   */
  private EncodedTensor atMostLossless(TensorData data, EncodedTensor lossy, TensorPlan plan) {
    if (lossy.codec().isLossless() || lossy.storedLength() < data.info().byteSize()) {
      return lossy;
    }
    EncodedTensor lossless = smallest(data, plan.losslessFallback());
    return lossless.storedLength() <= lossy.storedLength() ? lossless : lossy;
  }

  private EncodedTensor withinBudget(TensorData data, TensorPlan plan) {
    for (TensorCodec c : plan.candidates()) {
      ByteBuffer payload = c.encode(data);
      float[] err = error(data, c, payload);
      if (err[0] <= plan.budget()) {
        return finish(data, c, payload, err);
      }
    }
    return smallest(data, plan.losslessFallback());
  }

  private EncodedTensor smallest(TensorData data, List<TensorCodec> candidates) {
    EncodedTensor best = null;
    for (TensorCodec c : candidates) {
      EncodedTensor e = encodeWith(data, c);
      if (best == null || e.storedLength() < best.storedLength()) {
        best = e;
      }
    }
    return best;
  }

  /** Encodes with one codec, measuring its error when lossy. */
  public EncodedTensor encodeWith(TensorData data, TensorCodec codec) {
    ByteBuffer payload = codec.encode(data);
    float[] err = codec.isLossless() ? new float[2] : error(data, codec, payload);
    return finish(data, codec, payload, err);
  }

  private EncodedTensor finish(TensorData data, TensorCodec codec, ByteBuffer payload, float[] err) {
    long raw = payload.remaining();
    ByteBuffer z = stage == null ? null : stage.compress(payload);
    boolean zstd = z != null;
    return new EncodedTensor(data.info(), codec, zstd ? z : payload, zstd, raw, err[0], err[1]);
  }

  /** {nmse, max abs error} of a lossy encoding, against what the values stand for. */
  private static float[] error(TensorData data, TensorCodec codec, ByteBuffer payload) {
    float[] x = data.reference();
    float[] y = codec.decode(data.info(), payload.duplicate()).floats();
    double num = 0;
    double den = 0;
    float maxAbs = 0;
    for (int i = 0; i < x.length; i++) {
      float d = x[i] - y[i];
      num += (double) d * d;
      den += (double) x[i] * x[i];
      maxAbs = Math.max(maxAbs, Math.abs(d));
    }
    float nmse = den == 0 ? (num == 0 ? 0f : Float.POSITIVE_INFINITY) : (float) (num / den);
    return new float[] {nmse, maxAbs};
  }
}
