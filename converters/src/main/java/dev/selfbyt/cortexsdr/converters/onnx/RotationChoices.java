package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which MatMul inputs an {@link OnnxCalibrator} pass rotated ({@link OnnxCalibrator#rotation}),
 * kept for the later passes of the same model: mixed precision ({@link MixedPrecision#calibrate})
 * runs GPTQ once per plan, and a group whose weights a later plan rounds with the same codecs takes
 * the decision already made instead of rounding its weights both ways again. A group whose codecs
 * changed is decided anew (and the new decision kept). The decision was measured on the
 * activations of the plan that made it; a later plan changes the weights before the group, and so
 * those activations, a little.
 */
public final class RotationChoices {
  /** One group's decision and the codecs it was made under. */
  record Choice(Map<String, QuantCodec> codecs, boolean rotated) {}

  private final Map<List<String>, Choice> choices = new HashMap<>(); // the passes run one after another
  private int reused;

  /** The decision for {@code group} under {@code codecs}, or null when none was made under them. */
  Boolean decided(List<String> group, Map<String, QuantCodec> codecs) {
    Choice c = choices.get(group);
    if (c == null || !c.codecs().equals(codecs)) {
      return null;
    }
    reused++;
    return c.rotated();
  }

  /** Records the decision for {@code group} under {@code codecs}. */
  void record(List<String> group, Map<String, QuantCodec> codecs, boolean rotated) {
    choices.put(List.copyOf(group), new Choice(Map.copyOf(codecs), rotated));
  }

  /** How many decisions were taken from an earlier pass instead of measured. */
  public int reused() {
    return reused;
  }
}
