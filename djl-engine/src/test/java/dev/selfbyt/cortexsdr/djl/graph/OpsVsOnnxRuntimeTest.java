package dev.selfbyt.cortexsdr.djl.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every operator of the executor against ONNX Runtime on random inputs: one single-node ONNX model
 * per case, run by both, outputs compared element by element.
 */
class OpsVsOnnxRuntimeTest {
  private static final Random RND = new Random(7);

  /** One test: an operator at an opset with attributes and inputs (null for an omitted optional one). */
  record Case(String name, String op, int opset, List<AttributeProto> attrs, List<Value> inputs) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Value f(long... shape) {
    float[] v = new float[Broadcast.size(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) RND.nextGaussian();
    }
    return Value.ofFloats(shape, v);
  }

  static Value pos(long... shape) {
    float[] v = f(shape).floats();
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.abs(v[i]) + 0.1f;
    }
    return Value.ofFloats(shape, v);
  }

  static Value i64(long... values) {
    return Value.ofLongs(DType.INT64, new long[] {values.length}, values);
  }

  static Value ints(long[] shape, long bound) {
    long[] v = new long[Broadcast.size(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = RND.nextInt((int) bound);
    }
    return Value.ofLongs(DType.INT64, shape, v);
  }

  static AttributeProto ai(String n, long v) {
    return AttributeProto.newBuilder().setName(n).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }

  static AttributeProto af(String n, float v) {
    return AttributeProto.newBuilder().setName(n).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
  }

  static AttributeProto ais(String n, long... v) {
    AttributeProto.Builder b = AttributeProto.newBuilder().setName(n).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      b.addInts(x);
    }
    return b.build();
  }

  static Case c(String name, String op, int opset, List<AttributeProto> attrs, Value... in) {
    return new Case(name, op, opset, attrs, Arrays.asList(in));
  }

  static List<Case> cases() {
    List<Case> l = new ArrayList<>();
    for (String op : List.of("Add", "Sub", "Mul", "Div", "Max", "Min")) {
      l.add(c(op + " same shape", op, 13, List.of(), f(2, 3, 5), f(2, 3, 5)));
      l.add(c(op + " bias broadcast", op, 13, List.of(), f(2, 3, 5), f(5)));
      l.add(c(op + " both broadcast", op, 13, List.of(), f(2, 1, 5), f(4, 1)));
    }
    l.add(c("Add int64", "Add", 13, List.of(), ints(new long[] {3}, 9), ints(new long[] {1}, 9)));
    l.add(c("Pow square", "Pow", 13, List.of(), f(3, 7), Value.ofFloats(new long[0], new float[] {2f})));
    l.add(c("Pow general", "Pow", 13, List.of(), pos(3, 7), f(7)));
    for (String op : List.of("Erf", "Relu", "Tanh", "Sigmoid", "Neg", "Exp", "Abs", "Identity")) {
      l.add(c(op, op, 13, List.of(), f(4, 33)));
    }
    l.add(c("Sqrt", "Sqrt", 13, List.of(), pos(4, 9)));
    l.add(c("Log", "Log", 13, List.of(), pos(4, 9)));
    l.add(c("Reciprocal", "Reciprocal", 13, List.of(), pos(4, 9)));
    l.add(c("Softmax opset 11 axis -1", "Softmax", 11, List.of(ai("axis", -1)), f(2, 3, 17)));
    l.add(c("Softmax opset 11 axis 1 flattens", "Softmax", 11, List.of(ai("axis", 1)), f(2, 3, 17)));
    l.add(c("Softmax opset 13 axis 1", "Softmax", 13, List.of(ai("axis", 1)), f(2, 3, 17)));
    l.add(c("ReduceMean last axis", "ReduceMean", 11, List.of(ais("axes", -1)), f(2, 3, 16)));
    l.add(c("ReduceMean two axes no keepdims", "ReduceMean", 11, List.of(ais("axes", 0, 2), ai("keepdims", 0)),
        f(2, 3, 16)));
    l.add(c("ReduceSum axes input", "ReduceSum", 13, List.of(), f(2, 3, 4), i64(1)));
    l.add(c("MatMul 2-D weight", "MatMul", 13, List.of(), f(1, 7, 24), f(24, 40)));
    l.add(c("MatMul batched broadcast", "MatMul", 13, List.of(), f(2, 3, 5, 8), f(3, 8, 6)));
    l.add(c("MatMul vector", "MatMul", 13, List.of(), f(9), f(9, 4)));
    l.add(c("Gemm transB alpha beta", "Gemm", 13, List.of(ai("transB", 1), af("alpha", 0.5f), af("beta", 2f)),
        f(5, 12), f(7, 12), f(7)));
    l.add(c("Gemm transA", "Gemm", 13, List.of(ai("transA", 1)), f(12, 5), f(12, 7)));
    l.add(c("Transpose", "Transpose", 13, List.of(ais("perm", 0, 2, 1, 3)), f(1, 4, 3, 8)));
    l.add(c("Transpose default", "Transpose", 13, List.of(), f(3, 4, 5)));
    l.add(c("Reshape 0 and -1", "Reshape", 13, List.of(), f(2, 3, 4), i64(0, -1, 2)));
    l.add(c("Unsqueeze opset 11", "Unsqueeze", 11, List.of(ais("axes", 0, 3)), f(3, 4)));
    l.add(c("Unsqueeze opset 13", "Unsqueeze", 13, List.of(), f(3, 4), i64(-1)));
    l.add(c("Squeeze opset 13", "Squeeze", 13, List.of(), f(3, 1, 4, 1), i64(1)));
    l.add(c("Flatten", "Flatten", 13, List.of(ai("axis", 2)), f(2, 3, 4, 5)));
    l.add(c("Concat", "Concat", 13, List.of(ai("axis", 1)), f(2, 3, 4), f(2, 1, 4), f(2, 5, 4)));
    l.add(c("Concat int64", "Concat", 13, List.of(ai("axis", 0)), i64(1, 2), i64(3)));
    l.add(c("Slice with steps", "Slice", 13, List.of(), f(6, 10), i64(1, -1), i64(5, 0), i64(0, 1), i64(2, -3)));
    l.add(c("Slice large end", "Slice", 13, List.of(), f(4, 10), i64(0), i64(Long.MAX_VALUE), i64(1), null));
    l.add(c("Gather axis 0", "Gather", 13, List.of(), f(10, 6), Value.ofLongs(DType.INT64, new long[] {2, 3},
        new long[] {0, 9, -1, 4, 4, 2})));
    l.add(c("Gather axis 1 scalar index", "Gather", 13, List.of(ai("axis", 1)), f(3, 5, 2),
        Value.ofLongs(DType.INT64, new long[0], new long[] {-2})));
    l.add(c("Cast to int64", "Cast", 13, List.of(ai("to", 7)), f(3, 4)));
    l.add(c("Cast to float", "Cast", 13, List.of(ai("to", 1)), ints(new long[] {3, 4}, 100)));
    l.add(c("Shape", "Shape", 13, List.of(), f(2, 3, 4)));
    l.add(c("Equal", "Equal", 13, List.of(), ints(new long[] {4, 5}, 3), ints(new long[] {5}, 3)));
    for (String op : new String[] {"Greater", "GreaterOrEqual", "Less", "LessOrEqual"}) {
      l.add(c(op + " ints", op, 16, List.of(), ints(new long[] {4, 5}, 3), ints(new long[] {5}, 3)));
      Value x = f(3, 4);
      float[] xv = x.floats().clone();
      xv[0] = 0.25f; // some equal pairs, so the "or equal" half is exercised
      l.add(c(op + " floats", op, 16, List.of(), Value.ofFloats(new long[] {3, 4}, xv),
          Value.ofFloats(new long[] {1, 4}, new float[] {0.25f, 0f, -0.5f, 1f})));
    }
    l.add(c("GatherElements axis 0", "GatherElements", 13, List.of(), f(3, 4),
        Value.ofLongs(DType.INT64, new long[] {2, 4}, new long[] {0, 2, 1, -1, 2, 2, 0, 1})));
    l.add(c("GatherElements axis 2", "GatherElements", 13, List.of(ai("axis", 2)), f(2, 3, 5),
        ints(new long[] {2, 2, 4}, 5)));
    l.add(c("Where", "Where", 13, List.of(), Value.ofLongs(DType.BOOL, new long[] {2, 3},
        new long[] {1, 0, 1, 0, 0, 1}), f(2, 3), f(3)));
    l.add(c("Expand", "Expand", 13, List.of(), f(3, 1), i64(2, 3, 4)));
    l.add(c("ConstantOfShape", "ConstantOfShape", 13, List.of(), i64(2, 3)));
    l.add(c("LayerNormalization", "LayerNormalization", 17, List.of(af("epsilon", 1e-5f)), f(2, 5, 16), f(16),
        f(16)));
    l.add(c("Clip opset 13", "Clip", 13, List.of(), f(4, 6), Value.ofFloats(new long[0], new float[] {-0.5f}),
        Value.ofFloats(new long[0], new float[] {0.7f})));
    l.add(c("Conv pads strides", "Conv", 11, List.of(ais("pads", 1, 1, 1, 1), ais("strides", 2, 2)), f(1, 3, 9, 8),
        f(5, 3, 3, 3), f(5)));
    l.add(c("Conv dilation", "Conv", 11, List.of(ais("pads", 2, 2, 2, 2), ais("dilations", 2, 2)), f(2, 2, 7, 7),
        f(4, 2, 3, 3)));
    l.add(c("Conv depthwise", "Conv", 11, List.of(ai("group", 4), ais("pads", 1, 1, 1, 1)), f(1, 4, 6, 6),
        f(4, 1, 3, 3), f(4)));
    l.add(c("Conv depthwise strided dilated uneven pads", "Conv", 11, List.of(ai("group", 3), ais("strides", 2, 2),
        ais("pads", 1, 2, 0, 1), ais("dilations", 1, 2)), f(2, 3, 9, 8), f(3, 1, 3, 3), f(3)));
    l.add(c("Conv depthwise 5x5 stride 2 SAME_UPPER", "Conv", 11, List.of(ai("group", 4), ais("strides", 2, 2),
        str("auto_pad", "SAME_UPPER")), f(1, 4, 11, 7), f(4, 1, 5, 5)));
    l.add(c("Conv depthwise stride 3 wide kernel", "Conv", 11, List.of(ai("group", 2), ais("strides", 1, 3),
        ais("pads", 0, 3, 0, 3)), f(1, 2, 4, 13), f(2, 1, 1, 7)));
    l.add(c("Conv pointwise batch 2 with bias", "Conv", 11, List.of(), f(2, 5, 7, 3), f(6, 5, 1, 1), f(6)));
    l.add(c("Conv pointwise one pixel", "Conv", 11, List.of(), f(1, 9, 1, 1), f(4, 9, 1, 1)));
    l.add(c("Conv grouped", "Conv", 11, List.of(ai("group", 2)), f(1, 4, 5, 5), f(6, 2, 1, 1)));
    l.add(c("MaxPool", "MaxPool", 11, List.of(ais("kernel_shape", 3, 3), ais("pads", 1, 1, 1, 1)), f(1, 2, 7, 6)));
    l.add(c("MaxPool strided", "MaxPool", 11, List.of(ais("kernel_shape", 2, 2), ais("strides", 2, 2)),
        f(1, 2, 7, 6)));
    l.add(c("MaxPool ceil", "MaxPool", 11, List.of(ais("kernel_shape", 3, 3), ais("strides", 2, 2),
        ais("pads", 1, 1, 1, 1), ai("ceil_mode", 1)), f(1, 2, 8, 7)));
    // a last window that would start in the right padding is dropped (7 + 2 pads, k 2, s 2: 4 not 5)
    l.add(c("MaxPool ceil dropped window", "MaxPool", 11, List.of(ais("kernel_shape", 2, 2), ais("strides", 2, 2),
        ais("pads", 1, 1, 1, 1), ai("ceil_mode", 1)), f(1, 2, 7, 7)));
    l.add(c("AveragePool ceil dropped window", "AveragePool", 11, List.of(ais("kernel_shape", 2, 2),
        ais("strides", 2, 2), ais("pads", 1, 1, 1, 1), ai("ceil_mode", 1), ai("count_include_pad", 1)),
        f(1, 2, 7, 7)));
    l.add(c("AveragePool", "AveragePool", 11, List.of(ais("kernel_shape", 2, 2), ais("strides", 2, 2)),
        f(2, 3, 6, 6)));
    l.add(c("AveragePool pads", "AveragePool", 11, List.of(ais("kernel_shape", 3, 3), ais("pads", 1, 1, 1, 1)),
        f(1, 2, 7, 6)));
    l.add(c("AveragePool pads count_include_pad", "AveragePool", 11, List.of(ais("kernel_shape", 3, 3),
        ais("pads", 1, 1, 1, 1), ai("count_include_pad", 1)), f(1, 2, 7, 6)));
    l.add(c("AveragePool ceil strided", "AveragePool", 11, List.of(ais("kernel_shape", 3, 2), ais("strides", 2, 2),
        ai("ceil_mode", 1)), f(1, 2, 8, 7)));
    l.add(c("AveragePool SAME_UPPER", "AveragePool", 11, List.of(ais("kernel_shape", 3, 3), ais("strides", 2, 2),
        AttributeProto.newBuilder().setName("auto_pad").setType(AttributeProto.AttributeType.STRING)
            .setS(com.google.protobuf.ByteString.copyFromUtf8("SAME_UPPER")).build()), f(1, 2, 7, 6)));
    l.add(c("BatchNormalization", "BatchNormalization", 15, List.of(af("epsilon", 1e-3f)), f(2, 3, 4, 5), f(3),
        f(3), f(3), pos(3)));
    l.add(c("BatchNormalization 2-D", "BatchNormalization", 15, List.of(), f(4, 6), f(6), f(6), f(6), pos(6)));
    l.add(c("Pad constant", "Pad", 11, List.of(), f(1, 2, 3, 4), i64(0, 0, 1, 0, 0, 0, 0, 2)));
    l.add(c("Pad reflect", "Pad", 11, List.of(AttributeProto.newBuilder().setName("mode")
        .setType(AttributeProto.AttributeType.STRING).setS(com.google.protobuf.ByteString.copyFromUtf8("reflect"))
        .build()), f(1, 1, 4, 5), i64(0, 0, 2, 1, 0, 0, 1, 2)));
    l.add(c("Resize linear half_pixel", "Resize", 11, List.of(str("mode", "linear"),
        str("coordinate_transformation_mode", "half_pixel")), f(1, 2, 4, 5),
        Value.ofFloats(new long[] {0}, new float[0]), Value.ofFloats(new long[] {4}, new float[] {1, 1, 2, 2})));
    l.add(c("Resize nearest asymmetric", "Resize", 11, List.of(str("mode", "nearest"),
        str("coordinate_transformation_mode", "asymmetric"), str("nearest_mode", "floor")), f(1, 2, 3, 4),
        Value.ofFloats(new long[] {0}, new float[0]), Value.ofFloats(new long[] {4}, new float[] {1, 1, 2, 3})));
    l.add(c("Split", "Split", 11, List.of(ai("axis", 1), ais("split", 1, 3)), f(2, 4, 3)));
    l.addAll(cnnCases());
    return l;
  }

  /** The operators of MobileNetV3 classifiers, DB-style detectors and CRNN recognisers. */
  static List<Case> cnnCases() {
    List<Case> l = new ArrayList<>();
    Value none = Value.ofFloats(new long[] {0}, new float[0]);
    l.add(c("HardSigmoid PyTorch's alpha", "HardSigmoid", 14, List.of(af("alpha", 1f / 6), af("beta", 0.5f)),
        scaled(f(3, 5, 7), 4)));
    l.add(c("HardSigmoid defaults", "HardSigmoid", 6, List.of(), scaled(f(2, 9), 4)));
    l.add(c("HardSwish", "HardSwish", 14, List.of(), scaled(f(2, 3, 5, 7), 5)));
    l.add(c("LeakyRelu", "LeakyRelu", 6, List.of(af("alpha", 0.1f)), f(3, 11)));
    l.add(c("PRelu per channel", "PRelu", 9, List.of(), f(2, 3, 4, 5), f(3, 1, 1)));
    l.add(c("Softplus", "Softplus", 1, List.of(), scaled(f(4, 7), 30)));
    l.add(c("Elu", "Elu", 6, List.of(af("alpha", 0.7f)), f(4, 7)));
    l.add(c("GlobalAveragePool", "GlobalAveragePool", 1, List.of(), f(2, 3, 5, 7)));
    l.add(c("GlobalMaxPool 3-D", "GlobalMaxPool", 1, List.of(), f(2, 3, 11)));
    l.add(c("LogSoftmax opset 13 axis 1", "LogSoftmax", 13, List.of(ai("axis", 1)), scaled(f(2, 5, 3), 10)));
    l.add(c("LogSoftmax opset 11 flattens", "LogSoftmax", 11, List.of(ai("axis", 1)), f(2, 3, 4)));
    l.add(c("ConvTranspose 2x2 stride 2", "ConvTranspose", 11, List.of(ais("kernel_shape", 2, 2),
        ais("strides", 2, 2)), f(1, 4, 5, 7), f(4, 3, 2, 2), f(3)));
    l.add(c("ConvTranspose grouped pads dilations", "ConvTranspose", 11, List.of(ai("group", 2),
        ais("strides", 2, 3), ais("pads", 1, 0, 0, 1), ais("dilations", 1, 2), ais("output_padding", 1, 0)),
        f(2, 4, 5, 3), f(4, 3, 3, 2)));
    l.add(c("ConvTranspose output_shape", "ConvTranspose", 11, List.of(ais("strides", 2, 2),
        ais("output_shape", 10, 9)), f(1, 2, 5, 4), f(2, 3, 3, 3)));
    l.add(c("ConvTranspose SAME_UPPER", "ConvTranspose", 11, List.of(ais("strides", 2, 2), str("auto_pad",
        "SAME_UPPER")), f(1, 2, 3, 4), f(2, 2, 3, 3)));
    l.add(c("Resize nearest floor sizes", "Resize", 13, List.of(str("coordinate_transformation_mode", "asymmetric"),
        str("nearest_mode", "floor")), f(1, 2, 5, 3), none, none, i64(1, 2, 9, 7)));
    l.add(c("Resize nearest half_pixel shrink", "Resize", 13, List.of(), f(1, 2, 9, 7), none,
        Value.ofFloats(new long[] {4}, new float[] {1, 1, 0.5f, 0.6f})));
    l.add(c("Resize nearest align_corners round_prefer_ceil", "Resize", 13, List.of(
        str("coordinate_transformation_mode", "align_corners"), str("nearest_mode", "round_prefer_ceil")),
        f(2, 1, 4, 5), none, none, i64(2, 1, 7, 3)));
    l.add(c("Resize nearest tf_half_pixel_for_nn", "Resize", 13, List.of(
        str("coordinate_transformation_mode", "tf_half_pixel_for_nn")), f(1, 2, 3, 5), none,
        Value.ofFloats(new long[] {4}, new float[] {1, 1, 2.5f, 1.5f})));
    l.add(c("Resize linear align_corners sizes", "Resize", 13, List.of(str("mode", "linear"),
        str("coordinate_transformation_mode", "align_corners")), f(1, 3, 5, 4), none, none, i64(1, 3, 9, 11)));
    l.add(c("Resize linear pytorch_half_pixel shrink", "Resize", 13, List.of(str("mode", "linear"),
        str("coordinate_transformation_mode", "pytorch_half_pixel")), f(1, 2, 9, 7), none, none, i64(1, 2, 4, 1)));
    l.add(c("Resize linear asymmetric 3-D", "Resize", 13, List.of(str("mode", "linear"),
        str("coordinate_transformation_mode", "asymmetric")), f(2, 3, 7), none,
        Value.ofFloats(new long[] {3}, new float[] {1, 1, 1.75f})));
    l.add(c("Resize cubic half_pixel", "Resize", 13, List.of(str("mode", "cubic")), f(1, 2, 5, 6), none,
        Value.ofFloats(new long[] {4}, new float[] {1, 1, 1.6f, 2f})));
    l.add(c("Resize cubic exclude_outside a -0.5", "Resize", 13, List.of(str("mode", "cubic"),
        af("cubic_coeff_a", -0.5f), ai("exclude_outside", 1)), f(1, 1, 6, 5), none, none, i64(1, 1, 4, 9)));
    l.add(c("Resize tf_crop_and_resize", "Resize", 13, List.of(str("mode", "linear"),
        str("coordinate_transformation_mode", "tf_crop_and_resize"), af("extrapolation_value", 2.5f)),
        f(1, 1, 5, 6), Value.ofFloats(new long[] {8}, new float[] {0, 0, -0.2f, 0.1f, 1, 1, 0.9f, 1.3f}), none,
        i64(1, 1, 4, 5)));
    l.add(c("Resize opset 10 nearest", "Resize", 10, List.of(), f(1, 2, 3, 4),
        Value.ofFloats(new long[] {4}, new float[] {1, 1, 2, 1.5f})));
    l.add(c("Upsample opset 9 linear", "Upsample", 9, List.of(str("mode", "linear")), f(1, 2, 3, 4),
        Value.ofFloats(new long[] {4}, new float[] {1, 1, 2, 2})));
    int h = 5;
    l.add(c("LSTM forward", "LSTM", 14, List.of(ai("hidden_size", h)), f(4, 2, 3), f(1, 4 * h, 3), f(1, 4 * h, h),
        f(1, 8 * h)));
    l.add(c("LSTM bidirectional lengths states peepholes", "LSTM", 14, List.of(ai("hidden_size", h),
        str("direction", "bidirectional")), f(6, 3, 7), f(2, 4 * h, 7), f(2, 4 * h, h), f(2, 8 * h),
        Value.ofLongs(DType.INT32, new long[] {3}, new long[] {6, 2, 4}), f(2, 3, h), f(2, 3, h), f(2, 3 * h)));
    // ONNX Runtime refuses layout 1 (batch first): CnnOpsTest checks it against the double reference
    l.add(c("LSTM reverse clip", "LSTM", 14, List.of(ai("hidden_size", h), str("direction", "reverse"),
        af("clip", 0.8f)), f(4, 2, 3), f(1, 4 * h, 3), f(1, 4 * h, h), f(1, 8 * h)));
    l.add(c("GRU bidirectional linear_before_reset", "GRU", 14, List.of(ai("hidden_size", h),
        str("direction", "bidirectional"), ai("linear_before_reset", 1)), f(5, 2, 3), f(2, 3 * h, 3),
        f(2, 3 * h, h), f(2, 6 * h), null, f(2, 2, h)));
    l.add(c("GRU forward reset before product", "GRU", 14, List.of(ai("hidden_size", h)), f(5, 2, 3), f(1, 3 * h, 3),
        f(1, 3 * h, h), f(1, 6 * h)));
    l.add(c("Max of three", "Max", 13, List.of(), f(2, 3, 4), f(4), f(3, 1)));
    l.add(c("Min of one", "Min", 13, List.of(), f(2, 5)));
    l.add(c("Sum of three", "Sum", 13, List.of(), f(2, 3, 4), f(4), f(3, 1)));
    l.add(c("Mean of two", "Mean", 13, List.of(), f(2, 3), f(3)));
    Value halves = Value.ofFloats(new long[] {8}, new float[] {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0.3f, -0.7f});
    for (String op : List.of("Floor", "Ceil", "Round", "Sign")) {
      l.add(c(op, op, 13, List.of(), halves));
    }
    l.add(c("Gelu", "Gelu", 20, List.of(), scaled(f(3, 7), 3)));
    l.add(c("Gelu tanh", "Gelu", 20, List.of(str("approximate", "tanh")), scaled(f(3, 7), 3)));
    l.add(c("Dropout inference", "Dropout", 13, List.of(), f(3, 5), Value.ofFloats(new long[0], new float[] {0.3f})));
    l.add(c("ReduceMax two axes", "ReduceMax", 13, List.of(ais("axes", 0, 2), ai("keepdims", 0)), f(3, 4, 5)));
    l.add(c("ReduceMin axes input", "ReduceMin", 18, List.of(), f(3, 4, 5), i64(-1)));
    l.add(c("ReduceMax all", "ReduceMax", 13, List.of(), f(3, 4, 5)));
    l.add(c("ArgMax axis 1", "ArgMax", 13, List.of(ai("axis", 1)), f(2, 7, 3)));
    l.add(c("ArgMin last of ties", "ArgMin", 13, List.of(ai("axis", -1), ai("keepdims", 0),
        ai("select_last_index", 1)), Value.ofFloats(new long[] {2, 4}, new float[] {1, 0, 0, 2, 3, 1, 3, 1})));
    l.add(c("Tile", "Tile", 13, List.of(), f(2, 3, 1), i64(2, 1, 3)));
    l.add(c("DepthToSpace DCR", "DepthToSpace", 13, List.of(ai("blocksize", 2)), f(1, 12, 3, 5)));
    l.add(c("DepthToSpace CRD", "DepthToSpace", 13, List.of(ai("blocksize", 2), str("mode", "CRD")),
        f(2, 8, 3, 2)));
    l.add(c("SpaceToDepth", "SpaceToDepth", 13, List.of(ai("blocksize", 3)), f(1, 2, 6, 9)));
    l.add(c("InstanceNormalization", "InstanceNormalization", 6, List.of(af("epsilon", 1e-4f)), f(2, 3, 5, 7), f(3),
        f(3)));
    return l;
  }

  static Value scaled(Value v, float k) {
    float[] x = v.floats().clone();
    for (int i = 0; i < x.length; i++) {
      x[i] *= k;
    }
    return Value.ofFloats(v.shape(), x);
  }

  static AttributeProto str(String n, String v) {
    return AttributeProto.newBuilder().setName(n).setType(AttributeProto.AttributeType.STRING)
        .setS(com.google.protobuf.ByteString.copyFromUtf8(v)).build();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesOnnxRuntime(Case tc) throws Exception {
    ModelProto model = singleNode(tc);
    GraphExecutor exec = new GraphExecutor(model, name -> null);
    Map<String, Value> in = new HashMap<>();
    for (int i = 0; i < tc.inputs().size(); i++) {
      if (tc.inputs().get(i) != null) {
        in.put("x" + i, tc.inputs().get(i));
      }
    }
    Value ours = exec.run(in).get("y");
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(model.toByteArray(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> oin = new HashMap<>();
      for (Map.Entry<String, Value> e : in.entrySet()) {
        oin.put(e.getKey(), tensor(env, e.getValue()));
      }
      try (OrtSession.Result r = s.run(oin)) {
        OnnxTensor t = (OnnxTensor) r.get(0);
        assertArrayEquals(t.getInfo().getShape(), ours.shape(), "shape");
        if (ours.isFloating()) {
          FloatBuffer fb = t.getFloatBuffer();
          float[] ref = new float[fb.remaining()];
          fb.get(ref);
          float[] got = ours.floats();
          for (int i = 0; i < ref.length; i++) {
            assertEquals(ref[i], got[i], 2e-5 * (1 + Math.abs(ref[i])), tc + " at " + i);
          }
        } else {
          ByteBuffer b = t.getByteBuffer().order(ByteOrder.nativeOrder());
          long[] got = ours.longs();
          for (int i = 0; i < got.length; i++) {
            long ref = switch (t.getInfo().type) {
              case INT64 -> b.getLong(8 * i);
              case BOOL, UINT8, INT8 -> b.get(i);
              case INT32 -> b.getInt(4 * i);
              default -> throw new IllegalStateException("type " + t.getInfo().type);
            };
            assertEquals(ref, got[i], tc + " at " + i);
          }
        }
      }
      oin.values().forEach(OnnxTensor::close);
    }
  }

  private static ModelProto singleNode(Case tc) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(tc.op()).setName(tc.name()).addOutput("y");
    if (tc.op().equals("Split")) {
      n.addOutput("y2"); // the test compares the first part; both must be produced
    }
    tc.attrs().forEach(n::addAttribute);
    if (tc.op().equals("ConstantOfShape")) {
      n.addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
          .setT(TensorProto.newBuilder().setDataType(1).addDims(1).addFloatData(1.5f)));
    }
    GraphProto.Builder g = GraphProto.newBuilder().setName("g");
    for (int i = 0; i < tc.inputs().size(); i++) {
      Value v = tc.inputs().get(i);
      n.addInput(v == null ? "" : "x" + i);
      if (v != null) {
        g.addInput(ValueInfoProto.newBuilder().setName("x" + i).setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(OnnxValues.onnxType(v.dtype())))));
      }
    }
    g.addNode(n);
    g.addOutput(ValueInfoProto.newBuilder().setName("y"));
    return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(tc.opset())).build();
  }

  private static OnnxTensor tensor(OrtEnvironment env, Value v) throws Exception {
    if (v.isFloating()) {
      return OnnxTensor.createTensor(env, FloatBuffer.wrap(v.floats()), v.shape());
    }
    if (v.dtype() == DType.INT64) {
      return OnnxTensor.createTensor(env, LongBuffer.wrap(v.longs()), v.shape());
    }
    if (v.dtype() == DType.INT32) {
      java.nio.IntBuffer b = java.nio.IntBuffer.allocate(v.size());
      for (long x : v.longs()) {
        b.put((int) x);
      }
      return OnnxTensor.createTensor(env, b.rewind(), v.shape());
    }
    ByteBuffer b = ByteBuffer.allocateDirect(v.size()).order(ByteOrder.nativeOrder());
    for (long x : v.longs()) {
      b.put((byte) x);
    }
    return OnnxTensor.createTensor(env, b.rewind(), v.shape(), OnnxJavaType.BOOL);
  }
}
