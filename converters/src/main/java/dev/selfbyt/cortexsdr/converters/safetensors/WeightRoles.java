package dev.selfbyt.cortexsdr.converters.safetensors;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.Locale;

/**
 * The role and reduction axis of a weight stored as PyTorch stores module parameters, judged from
 * its name and shape alone: weight files (safetensors, state dicts) have no graph to ask. PyTorch
 * keeps a {@code Linear} weight as {@code [out, in]} and a convolution kernel as {@code [out,
 * in/groups, k...]}, so:
 * <ul>
 *   <li>rank 2: a MatMul weight reducing over the last axis ({@code in}); a table whose last name
 *       part or module says "embed" (or GPT-style {@code wte}/{@code wpe}) is an embedding, read
 *       row by row (the same axis, so the same blocks);
 *   <li>rank 3 and more, named {@code weight}: a convolution kernel reducing over axis 1 and the
 *       window (a transposed convolution, {@code [in, out, k...]}, cannot be told from the name and
 *       is treated alike);
 *   <li>rank 0 and 1: {@code bias}, or a norm's parameter when the module's name says norm
 *       ({@code LayerNorm}, {@code ln_f}, {@code bn1}, {@code norm1}); stored lossless either way;
 *   <li>anything else: {@link TensorRole#OTHER}, last axis.
 * </ul>
 * The rules read name parts, never whole names, and fit any model saved from {@code torch.nn}
 * modules. Use {@link #info}.
 */
public final class WeightRoles {
  private WeightRoles() {}

  /** The tensor info of a weight of this name, dtype and shape, with the role its layout implies. */
  public static TensorInfo info(String name, DType dtype, long[] shape) {
    String lower = name.toLowerCase(Locale.ROOT);
    int dot = lower.lastIndexOf('.');
    String leaf = lower.substring(dot + 1);
    String module = dot < 0 ? "" : lower.substring(0, dot);
    String moduleLeaf = module.substring(module.lastIndexOf('.') + 1);
    int rank = shape.length;
    if (rank <= 1) {
      if (leaf.equals("bias") || leaf.endsWith("_bias")) {
        return new TensorInfo(name, dtype, shape, TensorRole.BIAS, -1);
      }
      if (isNorm(moduleLeaf) || isNorm(leaf)) {
        return new TensorInfo(name, dtype, shape, TensorRole.NORM, -1);
      }
      return new TensorInfo(name, dtype, shape, TensorRole.OTHER, -1);
    }
    if (rank == 2) {
      if (leaf.contains("embed") || moduleLeaf.contains("embed") || moduleLeaf.equals("wte")
          || moduleLeaf.equals("wpe") || leaf.equals("wte") || leaf.equals("wpe")) {
        return new TensorInfo(name, dtype, shape, TensorRole.EMBEDDING, 1);
      }
      return new TensorInfo(name, dtype, shape, TensorRole.MATMUL_WEIGHT, 1);
    }
    if (leaf.equals("weight") || leaf.endsWith("_weight")) {
      return new TensorInfo(name, dtype, shape, TensorRole.CONV_WEIGHT, 1);
    }
    return new TensorInfo(name, dtype, shape, TensorRole.OTHER, -1);
  }

  private static boolean isNorm(String part) {
    return part.contains("norm") || part.startsWith("ln") || part.startsWith("bn") || part.endsWith("_ln");
  }
}
