package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps.Binary;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps.Comparison;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps.Unary;
import java.util.Map;

/**
 * Element-wise operators as graph nodes: the arithmetic, comparisons and activations of {@link
 * Arith} (broadcast; Max, Min, Sum and Mean over any number of inputs), Where, Clip, Identity,
 * Dropout (inference: the identity), Floor, Ceil, Round, Sign, and the activations of
 * convolutional networks and recognisers (HardSigmoid, HardSwish, LeakyRelu, PRelu, Softplus,
 * Elu, Gelu).
 */
final class ElementwiseOps {
  private ElementwiseOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    for (Binary op : new Binary[] {Binary.ADD, Binary.SUB, Binary.MUL, Binary.DIV, Binary.POW}) {
      ops.put(op.onnxName(), (a, n, o) -> in -> Ops.one(Arith.binary(op, in[0], in[1])));
    }
    // variadic: every input, broadcast together
    ops.put("Max", (a, n, o) -> in -> Ops.one(fold(Binary.MAX, in)));
    ops.put("Min", (a, n, o) -> in -> Ops.one(fold(Binary.MIN, in)));
    ops.put("Sum", (a, n, o) -> in -> Ops.one(fold(Binary.ADD, in)));
    ops.put("Mean", (a, n, o) -> in -> {
      int count = 0;
      for (Value v : in) {
        count += v == null ? 0 : 1;
      }
      return Ops.one(Arith.binary(Binary.DIV, fold(Binary.ADD, in), Value.ofFloats(new long[0],
          new float[] {count})));
    });
    ops.put("Floor", (a, n, o) -> in -> Ops.one(map(in[0], x -> (float) Math.floor(x))));
    ops.put("Ceil", (a, n, o) -> in -> Ops.one(map(in[0], x -> (float) Math.ceil(x))));
    ops.put("Round", (a, n, o) -> in -> Ops.one(map(in[0], x -> (float) Math.rint(x)))); // half to even
    ops.put("Sign", (a, n, o) -> in -> Ops.one(map(in[0], Math::signum)));
    ops.put("Gelu", (a, n, o) -> {
      boolean tanh = a.s("approximate", "none").equals("tanh");
      return in -> Ops.one(tanh ? map(in[0], x -> (float) (0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI)
          * (x + 0.044715 * x * x * x))))) : FusedOps.gelu(in[0]));
    });
    ops.put("Dropout", (a, n, o) -> {
      int outputs = n.getOutputCount();
      return in -> {
        if (in.length > 2 && in[2] != null && in[2].longs()[0] != 0) {
          throw new IllegalArgumentException("Dropout in training mode: this engine only runs inference");
        }
        Value[] out = new Value[outputs];
        out[0] = in[0];
        if (outputs > 1) {
          long[] ones = new long[in[0].size()];
          java.util.Arrays.fill(ones, 1);
          out[1] = Value.ofLongs(dev.selfbyt.cortexsdr.core.tensor.DType.BOOL, in[0].shape(), ones);
        }
        return out;
      };
    });
    for (Unary op : Unary.values()) {
      ops.put(op.onnxName(), (a, n, o) -> in -> Ops.one(Arith.unary(op, in[0])));
    }
    ops.put("Identity", (a, n, o) -> in -> Ops.one(in[0]));
    for (Comparison op : Comparison.values()) {
      if (op.onnxName() != null) {
        ops.put(op.onnxName(), (a, n, o) -> in -> Ops.one(Arith.compare(op, in[0], in[1])));
      }
    }
    ops.put("Where", (a, n, o) -> in -> Ops.one(Arith.where(in[0], in[1], in[2])));
    ops.put("Clip", ElementwiseOps::clip);
    ops.put("HardSigmoid", (a, n, o) -> {
      float alpha = a.f("alpha", 0.2f);
      float beta = a.f("beta", 0.5f);
      return in -> Ops.one(hardSigmoid(in[0], alpha, beta));
    });
    ops.put("HardSwish", (a, n, o) -> in -> Ops.one(hardSwish(in[0])));
    ops.put("LeakyRelu", (a, n, o) -> {
      float alpha = a.f("alpha", 0.01f);
      return in -> Ops.one(leakyRelu(in[0], alpha));
    });
    ops.put("PRelu", (a, n, o) -> in -> Ops.one(prelu(in[0], in[1])));
    ops.put("Softplus", (a, n, o) -> in -> Ops.one(softplus(in[0])));
    ops.put("Elu", (a, n, o) -> {
      float alpha = a.f("alpha", 1f);
      return in -> Ops.one(elu(in[0], alpha));
    });
  }

  private static Ops.Op clip(Attrs a, NodeProto n, int opset) {
    float lo = a.f("min", Float.NEGATIVE_INFINITY);
    float hi = a.f("max", Float.POSITIVE_INFINITY);
    return in -> {
      float mn = opset >= 11 && in.length > 1 && in[1] != null ? in[1].floats()[0] : lo;
      float mx = opset >= 11 && in.length > 2 && in[2] != null ? in[2].floats()[0] : hi;
      float[] src = in[0].floats();
      float[] dst = new float[src.length];
      for (int i = 0; i < src.length; i++) {
        dst[i] = Math.min(mx, Math.max(mn, src[i]));
      }
      return Ops.one(Value.ofFloats(in[0].shapeRef(), dst));
    };
  }

  /** {@code max(0, min(1, alpha * x + beta))}; ONNX's defaults are 0.2 and 0.5, PyTorch exports 1/6 and 0.5. */
  static Value hardSigmoid(Value x, float alpha, float beta) {
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int i = 0; i < src.length; i++) {
      dst[i] = Math.max(0f, Math.min(1f, alpha * src[i] + beta));
    }
    return Value.ofFloats(x.shapeRef(), dst);
  }

  /** {@code x * max(0, min(1, x / 6 + 1/2))}, MobileNetV3's activation (ONNX computes it with alpha 1/6). */
  static Value hardSwish(Value x) {
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int i = 0; i < src.length; i++) {
      float v = src[i];
      dst[i] = v * Math.max(0f, Math.min(1f, v * (1f / 6f) + 0.5f));
    }
    return Value.ofFloats(x.shapeRef(), dst);
  }

  /** {@code x >= 0 ? x : alpha * x}. */
  static Value leakyRelu(Value x, float alpha) {
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int i = 0; i < src.length; i++) {
      dst[i] = src[i] >= 0 ? src[i] : alpha * src[i];
    }
    return Value.ofFloats(x.shapeRef(), dst);
  }

  /** PRelu: {@code x >= 0 ? x : slope * x}, the slope broadcast to x (numpy rules, as ONNX opset 9+). */
  static Value prelu(Value x, Value slope) {
    long[] shape = x.shapeRef();
    float[] src = x.floats();
    float[] k = Broadcast.expand(slope.floats(), slope.shapeRef(), Broadcast.shape(shape, slope.shapeRef()));
    if (k.length != src.length) {
      throw new IllegalArgumentException("PRelu: slope " + java.util.Arrays.toString(slope.shapeRef())
          + " broadcasts beyond input " + java.util.Arrays.toString(shape));
    }
    float[] dst = new float[src.length];
    for (int i = 0; i < src.length; i++) {
      dst[i] = src[i] >= 0 ? src[i] : k[i] * src[i];
    }
    return Value.ofFloats(shape, dst);
  }

  /** {@code log(1 + exp(x))}, computed without overflow for large x. */
  static Value softplus(Value x) {
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int i = 0; i < src.length; i++) {
      double v = src[i];
      dst[i] = (float) (Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))));
    }
    return Value.ofFloats(x.shapeRef(), dst);
  }

  /** {@code x >= 0 ? x : alpha * (exp(x) - 1)}. */
  static Value elu(Value x, float alpha) {
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int i = 0; i < src.length; i++) {
      dst[i] = src[i] >= 0 ? src[i] : (float) (alpha * Math.expm1(src[i]));
    }
    return Value.ofFloats(x.shapeRef(), dst);
  }

  private static Value fold(Binary code, Value[] in) {
    Value acc = null;
    for (Value v : in) {
      if (v != null) {
        acc = acc == null ? v : Arith.binary(code, acc, v);
      }
    }
    if (acc == null) {
      throw new IllegalArgumentException("no input");
    }
    return acc;
  }

  /** {@code f} on every element, as floats. */
  static Value map(Value x, java.util.function.DoubleUnaryOperator f) {
    if (!x.isFloating()) {
      return x; // Floor, Ceil, Round and Sign leave integers as they are
    }
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int i = 0; i < src.length; i++) {
      dst[i] = (float) f.applyAsDouble(src[i]);
    }
    return Value.ofFloats(x.shapeRef(), dst);
  }
}
