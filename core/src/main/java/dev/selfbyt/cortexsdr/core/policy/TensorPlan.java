package dev.selfbyt.cortexsdr.core.policy;

import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import java.util.List;

/**
 * The policy's decision for one tensor. {@link Kind#LOSSLESS}: try every candidate, keep the
 * smallest. {@link Kind#FIXED}: use the single candidate. {@link Kind#BUDGET}: candidates are
 * ordered from smallest; keep the first whose NMSE is at most {@link #budget()}, else the
 * lossless fallback.
 *
 * @param reason why this plan, in a few words (shown by {@code cortexsdr inspect})
 */
public record TensorPlan(
    Kind kind, List<TensorCodec> candidates, List<TensorCodec> losslessFallback, double budget,
    String reason) {

  public enum Kind {
    LOSSLESS,
    FIXED,
    BUDGET
  }
}
