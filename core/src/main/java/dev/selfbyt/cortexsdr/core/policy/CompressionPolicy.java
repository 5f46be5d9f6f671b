package dev.selfbyt.cortexsdr.core.policy;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.RawCodec;
import dev.selfbyt.cortexsdr.core.codec.RleCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Plans each tensor from {@link CompressionOptions}, in this order: a protected name stays
 * lossless; an override pattern gives its codec; non-floating tensors, biases, norms, tensors of
 * rank below 2 and small tensors stay lossless; the {@link Preset#LOSSLESS} preset keeps all
 * lossless; the error-budget mode searches quantizations from the smallest; otherwise the
 * preset's codec. Immutable and thread-safe; make one with {@code new CompressionPolicy(options)}.
 */
public final class CompressionPolicy {
  /** Bits and blocks the error-budget mode tries. */
  private static final int[] BUDGET_BITS = {2, 3, 4, 5, 6, 8};
  private static final int[] BUDGET_BLOCKS = {128, 64, 32};

  private final CompressionOptions options;
  private final TensorCodec presetCodec;
  /**
   * {@link Preset#INT8_FAST}'s codec for 2-D MatMul/Gemm weights (one scale per output channel,
   * as integer kernels take it) and embedding tables (one scale per row: the smallest table).
   */
  private final TensorCodec matMulCodec;
  private final List<TensorCodec> budgetCandidates;

  public CompressionPolicy(CompressionOptions options) {
    this.options = options;
    this.presetCodec = options.preset() == Preset.LOSSLESS ? null : presetCodec(options);
    this.matMulCodec = options.preset() == Preset.INT8_FAST && options.sparsity() == 0
        ? QuantCodec.perChannel(options.integerMatMulBits(), options.symmetric()) : presetCodec;
    this.budgetCandidates = budgetCandidates(options.symmetric());
  }

  public CompressionOptions options() {
    return options;
  }

  private static TensorCodec presetCodec(CompressionOptions o) {
    QuantCodec q =
        o.blockSize() > 0
            ? QuantCodec.blockwise(o.bits(), o.symmetric(), o.blockSize())
            : o.blockSize() == 0 ? QuantCodec.perChannel(o.bits(), o.symmetric())
            : QuantCodec.perTensor(o.bits(), o.symmetric());
    if (o.sparsity() > 0) {
      return SdrCodec.builder()
          .sparsity(o.sparsity())
          .deltaPositions(o.deltaIndices())
          .quantizedValues(q)
          .build();
    }
    return q;
  }

  private static List<TensorCodec> budgetCandidates(boolean symmetric) {
    List<QuantCodec> c = new ArrayList<>();
    for (int b : BUDGET_BITS) {
      for (int block : BUDGET_BLOCKS) {
        c.add(QuantCodec.blockwise(b, symmetric, block));
      }
    }
    // nominal cost: code bits + fp16 scale (+ zero point) per block
    c.sort(Comparator.comparingDouble(
        q -> q.bits() + (16.0 + (q.symmetric() ? 0 : q.bits())) / q.blockSize()));
    return List.copyOf(c);
  }

  /** The lossless candidates for a tensor: byte-shuffled raw, and run-length coding. */
  public static List<TensorCodec> losslessCandidates(TensorInfo info) {
    return List.of(info.dtype().size() > 1 ? RawCodec.shuffled() : RawCodec.plain(), RleCodec.INSTANCE);
  }

  /** Decides how to store one tensor. */
  public TensorPlan plan(TensorInfo info) {
    List<TensorCodec> lossless = losslessCandidates(info);
    String name = info.name();
    for (Pattern p : options.protectedPatterns()) {
      if (p.matcher(name).matches()) {
        return losslessPlan(lossless, "protected by /" + p.pattern() + "/");
      }
    }
    for (Map.Entry<Pattern, TensorCodec> e : options.overrides().entrySet()) {
      if (e.getKey().matcher(name).matches()) {
        TensorCodec c = e.getValue();
        if (!c.accepts(info)) {
          return losslessPlan(lossless, "override /" + e.getKey().pattern() + "/ needs a floating tensor");
        }
        return new TensorPlan(TensorPlan.Kind.FIXED, List.of(c), lossless, 0, "override /" + e.getKey().pattern() + "/");
      }
    }
    if (!info.dtype().isFloating()) {
      return losslessPlan(lossless, info.dtype() + " is not floating");
    }
    if (info.role() == TensorRole.BIAS || info.role() == TensorRole.NORM) {
      return losslessPlan(lossless, info.role().name().toLowerCase(java.util.Locale.ROOT));
    }
    if (info.rank() < 2) {
      return losslessPlan(lossless, "rank " + info.rank());
    }
    if (info.numel() < options.minLossyElements()) {
      return losslessPlan(lossless, "small (" + info.numel() + " elements)");
    }
    if (info.numel() > Integer.MAX_VALUE - 8) {
      return losslessPlan(lossless, "too large for lossy codecs");
    }
    if (options.preset() == Preset.LOSSLESS) {
      return losslessPlan(lossless, "lossless preset");
    }
    if (options.errorBudget() > 0) {
      return new TensorPlan(TensorPlan.Kind.BUDGET, budgetCandidates, lossless, options.errorBudget(),
          "error budget " + options.errorBudget());
    }
    if (isInt8ActivationCandidate(info)) {
      // integer kernels (MatMulInteger, VNNI) take one weight scale per output channel
      return new TensorPlan(TensorPlan.Kind.FIXED, List.of(matMulCodec), lossless, 0,
          options.preset().id() + " preset, per output channel");
    }
    if (options.preset() == Preset.INT8_FAST && matMulCodec != presetCodec && info.role() == TensorRole.EMBEDDING
        && info.rank() == 2) {
      // one scale per row: block scales would make the table (most of a small encoder) larger
      // than ONNX Runtime's own int8 file
      return new TensorPlan(TensorPlan.Kind.FIXED, List.of(matMulCodec), lossless, 0,
          options.preset().id() + " preset, per row");
    }
    return new TensorPlan(TensorPlan.Kind.FIXED, List.of(presetCodec), lossless, 0, options.preset().id() + " preset");
  }

  /** Whether the preset gives this weight the per-channel MatMul codec (before overrides and size rules). */
  private boolean isInt8ActivationCandidate(TensorInfo info) {
    return options.preset() == Preset.INT8_FAST && matMulCodec != presetCodec
        && info.role() == TensorRole.MATMUL_WEIGHT && info.rank() == 2;
  }

  /**
   * The weights of {@code tensors} that compute with int8 activations under these options: the
   * fp32 2-D MatMul/Gemm weights {@link Preset#INT8_FAST} plans per output channel at 7 or 8 bits
   * ({@link CompressionOptions#integerMatMulBits()}), symmetric, minus {@link CompressionOptions#weightOnly()}. Empty under every other preset. This
   * is the manifest's {@code int8Activations}.
   */
  public List<String> int8Activations(List<TensorInfo> tensors) {
    List<String> out = new ArrayList<>();
    if (options.preset() != Preset.INT8_FAST || !(matMulCodec instanceof QuantCodec q) || q.bits() < 7
        || q.bits() > 8 || !q.symmetric()) {
      return out;
    }
    java.util.Set<String> excluded = new java.util.HashSet<>(options.weightOnly());
    for (TensorInfo t : tensors) {
      TensorPlan p = plan(t);
      // fp32 weights only: the contract quantizes fp32 activations
      if (!excluded.contains(t.name()) && p.kind() == TensorPlan.Kind.FIXED && p.candidates().get(0).equals(q)
          && isInt8ActivationCandidate(t) && t.dtype() == dev.selfbyt.cortexsdr.core.tensor.DType.FLOAT32) {
        out.add(t.name());
      }
    }
    return out;
  }

  private static TensorPlan losslessPlan(List<TensorCodec> lossless, String reason) {
    return new TensorPlan(TensorPlan.Kind.LOSSLESS, lossless, lossless, 0, reason);
  }
}
