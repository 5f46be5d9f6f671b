package dev.selfbyt.cortexsdr.onnxops;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.List;
import java.util.Random;

/** Random SDR weights and one-node models around them, for the operator's tests. */
final class SdrModels {
  private SdrModels() {}

  /** A random {@code [K, N]} weight with about {@code sparsity} zeros. */
  static SdrMatMulWeights random(Random rnd, int k, int n, double sparsity, int bits, int block) {
    int[] pos = new int[k * n];
    int nnz = 0;
    for (int p = 0; p < k * n; p++) {
      if (rnd.nextDouble() >= sparsity) {
        pos[nnz++] = p;
      }
    }
    pos = java.util.Arrays.copyOf(pos, nnz);
    if (bits == 32) {
      float[] v = new float[nnz];
      for (int j = 0; j < nnz; j++) {
        v[j] = (float) rnd.nextGaussian();
      }
      return SdrMatMulWeights.ofFloats(k, n, pos, v);
    }
    byte[] codes = new byte[nnz];
    for (int j = 0; j < nnz; j++) {
      codes[j] = (byte) rnd.nextInt(1 << bits);
    }
    int blocks = (nnz + block - 1) / block;
    float[] scales = new float[blocks];
    int[] zps = new int[blocks];
    for (int b = 0; b < blocks; b++) {
      scales[b] = 0.01f + rnd.nextFloat() * 0.1f;
      zps[b] = rnd.nextInt(1 << bits);
    }
    return SdrMatMulWeights.ofCodes(k, n, pos, bits, codes, scales, zps, block);
  }

  /** {@code Y = SdrMatMul(X, W)} with X of shape {@code xDims} (null entries are symbolic). */
  static byte[] model(SdrMatMulWeights w, boolean int32Rows, Long... xDims) {
    NodeProto node = w.node("sdr", "X", "Y", "W");
    return model(node, w.initializers("W", int32Rows), TensorProto.DataType.FLOAT_VALUE, xDims);
  }

  static byte[] model(NodeProto node, List<TensorProto> inits, int xType, Long... xDims) {
    TensorShapeProto.Builder xs = TensorShapeProto.newBuilder();
    for (int i = 0; i < xDims.length; i++) {
      xs.addDim(xDims[i] == null
          ? TensorShapeProto.Dimension.newBuilder().setDimParam("d" + i)
          : TensorShapeProto.Dimension.newBuilder().setDimValue(xDims[i]));
    }
    GraphProto g = GraphProto.newBuilder().setName("sdr_matmul")
        .addInput(ValueInfoProto.newBuilder().setName("X").setType(TypeProto.newBuilder()
            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(xType).setShape(xs))))
        .addOutput(ValueInfoProto.newBuilder().setName("Y").setType(TypeProto.newBuilder()
            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))))
        .addNode(node).addAllInitializer(inits).build();
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test").setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .addOpsetImport(SdrMatMulWeights.opset()).build().toByteArray();
  }

  /** A 1-D graph input. */
  static ValueInfoProto input(String name, int type, long length) {
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(type).setShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(length))))).build();
  }

  /** {@code x [M, K] * W} in double precision, rounded to float. */
  static float[] reference(float[] x, int m, SdrMatMulWeights w) {
    float[] d = w.dense();
    int k = w.k();
    int n = w.n();
    float[] y = new float[m * n];
    for (int r = 0; r < m; r++) {
      for (int c = 0; c < n; c++) {
        double acc = 0;
        for (int i = 0; i < k; i++) {
          acc += (double) x[r * k + i] * d[i * n + c];
        }
        y[r * n + c] = (float) acc;
      }
    }
    return y;
  }

  /** The error bound of a float dot product: a few ulps of the sum of magnitudes. */
  static float[] tolerance(float[] x, int m, SdrMatMulWeights w) {
    float[] d = w.dense();
    int k = w.k();
    int n = w.n();
    float[] t = new float[m * n];
    for (int r = 0; r < m; r++) {
      for (int c = 0; c < n; c++) {
        double acc = 0;
        for (int i = 0; i < k; i++) {
          acc += Math.abs((double) x[r * k + i] * d[i * n + c]);
        }
        t[r * n + c] = (float) (acc * 1e-5 + 1e-6);
      }
    }
    return t;
  }

  static float[] randomInput(Random rnd, int count) {
    float[] x = new float[count];
    for (int i = 0; i < count; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    return x;
  }
}
