package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.core.tensor.DType;

/**
 * The executor's operators as plain functions on {@link Value}s, for the NDArray layer: the same
 * code the ONNX graph runs, so an NDArray operator and the matching ONNX node agree exactly.
 */
public final class ValueOps {
  private ValueOps() {}

  /** {@code "Add"}, {@code "Sub"}, {@code "Mul"}, {@code "Div"}, {@code "Pow"}, {@code "Max"}, {@code "Min"}. */
  public static Value binary(String onnxOp, Value a, Value b) {
    return Arith.binary(Arith.code(onnxOp), a, b);
  }

  /** {@code "Sqrt"}, {@code "Erf"}, {@code "Relu"}, {@code "Tanh"}, {@code "Sigmoid"}, {@code "Neg"}, {@code "Exp"}, {@code "Log"}, {@code "Abs"}. */
  public static Value unary(String onnxOp, Value a) {
    return Arith.unary(Arith.unaryCode(onnxOp), a);
  }

  public static Value equal(Value a, Value b) {
    return Arith.equal(a, b);
  }

  public static Value reduce(Value v, long[] axes, boolean keepDims, boolean mean) {
    return Ops.reduce(v, axes, keepDims, mean);
  }

  public static Value reshape(Value v, long[] shape) {
    return Ops.reshape(v, shape, false);
  }

  public static Value transpose(Value v, long[] perm) {
    return Ops.transpose(v, perm);
  }

  public static Value matMul(Value a, Value b) {
    return Ops.matMul(a, b);
  }

  public static Value softmax(Value v, int axis) {
    return Ops.softmax(v, axis, false);
  }

  public static Value slice(Value v, long[] starts, long[] ends, long[] axes, long[] steps) {
    return Ops.slice(v, starts, ends, axes, steps);
  }

  public static Value squeeze(Value v, long[] axes) {
    return Ops.squeeze(v, axes);
  }

  public static Value unsqueeze(Value v, long[] axes) {
    return Ops.unsqueeze(v, axes);
  }

  public static Value concat(Value[] parts, int axis) {
    return Ops.concat(parts, axis);
  }

  public static Value cast(Value v, DType to) {
    return Ops.cast(v, to);
  }

  public static Value layerNorm(Value x, Value gamma, Value beta, int axis, float eps) {
    return Ops.layerNorm(x, gamma, beta, axis, eps);
  }

  public static Value clip(Value v, float min, float max) {
    float[] src = v.floats();
    float[] dst = new float[src.length];
    for (int i = 0; i < src.length; i++) {
      dst[i] = Math.min(max, Math.max(min, src[i]));
    }
    return Value.ofFloats(v.shape(), dst);
  }

  /** {@code v} laid out over {@code shape} (numpy broadcasting). */
  public static Value broadcast(Value v, long[] shape) {
    long[] target = Broadcast.shape(v.shapeRef(), shape);
    return v.isFloating()
        ? Value.ofFloats(target, Broadcast.expand(v.floats(), v.shapeRef(), target))
        : Value.ofLongs(v.dtype(), target, Broadcast.expand(v.longs(), v.shapeRef(), target));
  }

  /** A dense copy (decoded when compressed). */
  public static Value dense(Value v) {
    if (!v.isCompressed()) {
      return v;
    }
    return Value.ofFloats(v.shape(), v.floats());
  }
}
