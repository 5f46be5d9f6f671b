package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.core.tensor.DType;

/**
 * The executor's operators as plain functions on {@link Value}s, for the NDArray layer: the same
 * code the ONNX graph runs, so an NDArray operator and the matching ONNX node agree exactly.
 */
public final class ValueOps {
  private ValueOps() {}

  /** Element-wise operators of two operands (broadcast), by their ONNX names. */
  public enum Binary {
    ADD("Add"), SUB("Sub"), MUL("Mul"), DIV("Div"), POW("Pow"), MAX("Max"), MIN("Min");

    private final String onnx;

    Binary(String onnx) {
      this.onnx = onnx;
    }

    /** The ONNX operator's name. */
    public String onnxName() {
      return onnx;
    }

    /** True for the four operators {@code Arith} has plain contiguous loops for. */
    boolean basic() {
      return ordinal() <= DIV.ordinal();
    }
  }

  /** Element-wise operators of one operand, by their ONNX names. */
  public enum Unary {
    SQRT("Sqrt"), ERF("Erf"), RELU("Relu"), TANH("Tanh"), SIGMOID("Sigmoid"), NEG("Neg"), EXP("Exp"), LOG("Log"),
    ABS("Abs"), RECIPROCAL("Reciprocal");

    private final String onnx;

    Unary(String onnx) {
      this.onnx = onnx;
    }

    /** The ONNX operator's name. */
    public String onnxName() {
      return onnx;
    }
  }

  /** Element-wise comparisons; ONNX has no "not equal" operator ({@code Not(Equal)}). */
  public enum Comparison {
    EQUAL("Equal"), NOT_EQUAL(null), GREATER("Greater"), GREATER_OR_EQUAL("GreaterOrEqual"), LESS("Less"),
    LESS_OR_EQUAL("LessOrEqual");

    private final String onnx;

    Comparison(String onnx) {
      this.onnx = onnx;
    }

    /** The ONNX operator's name, or null for {@link #NOT_EQUAL}. */
    public String onnxName() {
      return onnx;
    }
  }

  public static Value binary(Binary op, Value a, Value b) {
    return Arith.binary(op, a, b);
  }

  public static Value unary(Unary op, Value a) {
    return Arith.unary(op, a);
  }

  public static Value equal(Value a, Value b) {
    return Arith.equal(a, b);
  }

  /** Broadcast, as a BOOL tensor of 0/1. */
  public static Value compare(Comparison op, Value a, Value b) {
    return Arith.compare(op, a, b);
  }

  /** ONNX GatherElements, DJL's and PyTorch's {@code gather(index, axis)}. */
  public static Value gatherElements(Value data, Value indices, int axis) {
    return ShapeOps.gatherElements(data, indices, axis);
  }

  public static Value reduce(Value v, long[] axes, boolean keepDims, boolean mean) {
    return NormOps.reduce(v, axes, keepDims, mean);
  }

  public static Value reshape(Value v, long[] shape) {
    return ShapeOps.reshape(v, shape, false);
  }

  public static Value transpose(Value v, long[] perm) {
    return ShapeOps.transpose(v, perm);
  }

  public static Value matMul(Value a, Value b) {
    return ProductOps.matMul(a, b);
  }

  public static Value softmax(Value v, int axis) {
    return NormOps.softmax(v, axis, false);
  }

  public static Value slice(Value v, long[] starts, long[] ends, long[] axes, long[] steps) {
    return ShapeOps.slice(v, starts, ends, axes, steps);
  }

  public static Value squeeze(Value v, long[] axes) {
    return ShapeOps.squeeze(v, axes);
  }

  public static Value unsqueeze(Value v, long[] axes) {
    return ShapeOps.unsqueeze(v, axes);
  }

  public static Value concat(Value[] parts, int axis) {
    return ShapeOps.concat(parts, axis);
  }

  public static Value cast(Value v, DType to) {
    return ShapeOps.cast(v, to);
  }

  public static Value layerNorm(Value x, Value gamma, Value beta, int axis, float eps) {
    return NormOps.layerNorm(x, gamma, beta, axis, eps);
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

  /** ONNX Gather: slices of {@code data} along {@code axis} picked by {@code indices}; a quantized table is decoded row by row. */
  public static Value gather(Value data, Value indices, int axis) {
    return ShapeOps.gather(data, indices, axis);
  }

  /** {@code condition ? a : b}, broadcast. */
  public static Value where(Value condition, Value a, Value b) {
    return Arith.where(condition, a, b);
  }

  /** {@code x [..., K]} times {@code w [N, K]} transposed plus {@code bias} (may be null); a compressed {@code w} is used as stored. */
  public static Value linear(Value x, Value w, Value bias) {
    return ProductOps.linear(x, w, bias);
  }

  /** Inference batch normalization along {@code axis}; null scale/bias count as ones/zeros. */
  public static Value batchNorm(Value x, Value scale, Value bias, Value mean, Value var, int axis, float eps) {
    return NormOps.batchNorm(x, scale, bias, mean, var, axis, eps);
  }

  /** 2-D convolution (NCHW by OIHW), {@code pads} as {@code [top, left, bottom, right]}; a compressed weight is used as stored. */
  public static Value conv2d(Value x, Value w, Value bias, int[] strides, int[] pads, int[] dilations, int groups) {
    return ConvOps.conv2d(x, w, bias, strides, pads, dilations, groups);
  }

  /** 2-D max or average pooling (NCHW), {@code pads} as {@code [top, left, bottom, right]}. */
  public static Value pool2d(Value x, int[] kernel, int[] strides, int[] pads, boolean ceil, boolean average,
      boolean countPad) {
    return PoolOps.pool2d(x, kernel, strides, pads, new int[] {1, 1}, ceil, average, countPad);
  }

  /** GELU with the exact erf form {@code x / 2 * (1 + erf(x / sqrt 2))}, from the executor's Erf. */
  public static Value gelu(Value x) {
    return FusedOps.gelu(x);
  }
}
