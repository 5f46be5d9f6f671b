package dev.selfbyt.cortexsdr.core.pipeline;

import dev.selfbyt.cortexsdr.core.codec.MeasuredPayload;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.format.EncodedTensor;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Carries out a {@link TensorPlan} on one tensor: encodes with the plan's candidates, measures
 * the error of lossy encodings ({@link TensorCodec#encodeMeasured}), runs the zstd stage (kept only where it
 * shrinks), and returns the encoding chosen. Deterministic: the same tensor and plan always give
 * the same bytes. Thread-safe.
 */
public final class TensorEncoder {
  private final ZstdStage stage;

  /** @param stage the entropy stage, or null for none */
  public TensorEncoder(ZstdStage stage) {
    this.stage = stage;
  }

  /** Frees the zstd stage's kept contexts (see {@link ZstdStage#close()}); still usable after. */
  public void close() {
    if (stage != null) {
      stage.close();
    }
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
      MeasuredPayload m = c.encodeMeasured(data);
      if (m.nmse() <= plan.budget()) {
        return finish(data, c, m);
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
    return finish(data, codec, codec.encodeMeasured(data));
  }

  private EncodedTensor finish(TensorData data, TensorCodec codec, MeasuredPayload m) {
    ByteBuffer payload = m.payload();
    long raw = payload.remaining();
    ByteBuffer z = stage == null ? null : stage.compress(payload);
    boolean zstd = z != null;
    return new EncodedTensor(data.info(), codec, zstd ? z : payload, zstd, raw, m.nmse(), m.maxAbsError());
  }
}
