package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calibration of a convolutional network through {@link OnnxCalibrator} (which hands Conv and Gemm
 * weights to {@link LayerGptq}): a strided, padded convolution, a depthwise one, a grouped one and a
 * Gemm with {@code transB}, on smooth image-like inputs. At int4 the calibrated model's output error
 * in ONNX Runtime must be lower than plain rounding's, and the quantized export (Conv weights as
 * codes and {@code DequantizeLinear}) must compute what the decoded export computes.
 */
class LayerGptqTest {
  @TempDir Path dir;

  static TensorProto weight(String name, long seed, long... dims) {
    int n = 1;
    for (long d : dims) {
      n *= (int) d;
    }
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setRawData(OnnxTestModels.raw(OnnxTestModels.weights(n, seed)));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  static AttributeProto attr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }

  /** X [1, 4, 32, 32] -> Conv 3x3 s2 p1 (128) -> Relu -> depthwise 3x3 p1 -> Relu -> Conv 3x3 group 2 (64) -> pool -> Gemm. */
  static ModelProto net() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("layers")
        .addInput(OnnxTestModels.floatInput("X", 1, 4, 32, 32))
        .addOutput(OnnxTestModels.floatInput("Y", 1, 48));
    g.addInitializer(weight("C1", 31, 128, 4, 3, 3));
    g.addInitializer(weight("DW", 32, 128, 1, 8, 8)); // 8x8 depthwise: 8192 values, lossy by default
    g.addInitializer(weight("C2", 33, 64, 64, 3, 3));
    g.addInitializer(weight("G", 34, 48, 64 * 16));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").setName("c1").addInput("X").addInput("C1").addOutput("a")
        .addAttribute(ints("strides", 2, 2)).addAttribute(ints("pads", 1, 1, 1, 1)));
    g.addNode(NodeProto.newBuilder().setOpType("Relu").setName("r1").addInput("a").addOutput("b"));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").setName("dw").addInput("b").addInput("DW").addOutput("c")
        .addAttribute(attr("group", 128)).addAttribute(ints("pads", 3, 3, 4, 4)));
    g.addNode(NodeProto.newBuilder().setOpType("Relu").setName("r2").addInput("c").addOutput("d"));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").setName("c2").addInput("d").addInput("C2").addOutput("e")
        .addAttribute(attr("group", 2)).addAttribute(ints("pads", 1, 1, 1, 1)));
    g.addNode(NodeProto.newBuilder().setOpType("MaxPool").setName("pool").addInput("e").addOutput("f")
        .addAttribute(ints("kernel_shape", 4, 4)).addAttribute(ints("strides", 4, 4)));
    g.addNode(NodeProto.newBuilder().setOpType("Flatten").setName("flat").addInput("f").addOutput("h"));
    g.addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc").addInput("h").addInput("G").addOutput("Y")
        .addAttribute(attr("transB", 1)));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  /** Smooth random fields (bilinear upsampling of a coarse 5x5 grid per channel), as images are. */
  static float[] image(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[4 * 32 * 32];
    for (int c = 0; c < 4; c++) {
      double[] grid = new double[25];
      for (int i = 0; i < 25; i++) {
        grid[i] = r.nextDouble();
      }
      for (int y = 0; y < 32; y++) {
        for (int xx = 0; xx < 32; xx++) {
          double gy = y / 31.0 * 4;
          double gx = xx / 31.0 * 4;
          int y0 = Math.min(3, (int) gy);
          int x0 = Math.min(3, (int) gx);
          double fy = gy - y0;
          double fx = gx - x0;
          x[(c * 32 + y) * 32 + xx] = (float) ((1 - fy) * ((1 - fx) * grid[y0 * 5 + x0] + fx * grid[y0 * 5 + x0 + 1])
              + fy * ((1 - fx) * grid[(y0 + 1) * 5 + x0] + fx * grid[(y0 + 1) * 5 + x0 + 1]));
        }
      }
    }
    return x;
  }

  static List<Map<String, OnnxCalibrator.Input>> samples(long first, int n) {
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Map.of("X", OnnxCalibrator.Input.ofFloats(new long[] {1, 4, 32, 32}, image(first + i))));
    }
    return out;
  }

  /** Sum of squared output differences to the fp32 model over the samples. */
  static double error(Path fp32, Path model, List<Map<String, OnnxCalibrator.Input>> samples) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double e = 0;
    try (OrtSession a = env.createSession(fp32.toString(), new OrtSession.SessionOptions());
        OrtSession b = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      for (Map<String, OnnxCalibrator.Input> s : samples) {
        float[] ya = OnnxCalibrator.runFirstOutput(env, a, s);
        float[] yb = OnnxCalibrator.runFirstOutput(env, b, s);
        for (int i = 0; i < ya.length; i++) {
          e += (ya[i] - yb[i]) * (double) (ya[i] - yb[i]);
        }
      }
    }
    return e;
  }

  @Test
  void calibratedConvolutionsAndGemmBeatPlainRoundingAndExportQuantized() throws Exception {
    Path fp32 = dir.resolve("layers.onnx");
    Files.write(fp32, net().toByteArray());
    CompressionOptions options = CompressionOptions.builder().preset(Preset.INT4).threads(2).build();
    List<Map<String, OnnxCalibrator.Input>> calib = samples(100, 16);
    List<Map<String, OnnxCalibrator.Input>> eval = samples(1, 8);
    double[] errors = new double[2];
    for (int calibrated = 0; calibrated < 2; calibrated++) {
      Path cai = dir.resolve("layers-" + calibrated + ".cai");
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        List<String> logged = new ArrayList<>();
        TensorSource source = calibrated == 0 ? onnx
            : OnnxCalibrator.forOptions(onnx, options, 0.01, 2).onProgress(logged::add).calibrate(calib);
        if (calibrated == 1) {
          for (String kind : List.of("Conv C1", "Conv DW", "Conv C2", "Gemm G")) {
            assertTrue(logged.stream().anyMatch(l -> l.contains("calibrated " + kind)), kind + " in " + logged);
          }
        }
        CortexSdr.compress(source, cai, options);
      }
      Path decoded = dir.resolve("layers-" + calibrated + "-decoded.onnx");
      Path quantized = dir.resolve("layers-" + calibrated + "-q.onnx");
      List<QuantizedOnnxExporter.Form> forms;
      try (CaiReader r = CaiReader.open(cai)) {
        OnnxExporter.exportDecoded(r, decoded);
        forms = QuantizedOnnxExporter.export(r, quantized, 0, OrtVersion.OLDEST);
      }
      for (String w : List.of("C1", "DW", "C2")) {
        String form = forms.stream().filter(f -> f.tensor().equals(w)).findFirst().orElseThrow().form();
        assertTrue(form.contains("dequantized by DequantizeLinear"), w + ": " + form);
      }
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      try (OrtSession a = env.createSession(decoded.toString(), new OrtSession.SessionOptions());
          OrtSession b = env.createSession(quantized.toString(), new OrtSession.SessionOptions())) {
        // the same weights; ONNX Runtime pre-packs constant Conv weights, not computed ones, so
        // only the order of the fp32 sums differs
        assertArrayEquals(OnnxCalibrator.runFirstOutput(env, a, eval.get(0)),
            OnnxCalibrator.runFirstOutput(env, b, eval.get(0)), 1e-4f, "the quantized export computes the decoded values");
      }
      errors[calibrated] = error(fp32, quantized, eval);
    }
    System.out.printf("int4 output error: plain %.4g, calibrated %.4g%n", errors[0], errors[1]);
    assertTrue(errors[1] < 0.8 * errors[0], "calibrated " + errors[1] + " vs plain " + errors[0]);
  }
}
