package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.models.CalibratedRun;
import dev.selfbyt.cortexsdr.it.models.CalibratedRun.Recipe;
import dev.selfbyt.cortexsdr.it.models.FashionMnist;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Calibration beyond MatMul (issue 17): GPTQ on Conv, Gemm and LSTM weights and the quantized
 * export of convolutional and recurrent models, on real models. Two Fashion-MNIST classifiers
 * trained here from a fixed seed (an LSTM over image rows and a MobileNetV3-style CNN, {@code
 * src/main/python/fashion_models.py}, Debian's PyTorch; cached in {@code target/fashion-models}):
 * int8 within 0.2 points of fp32 accuracy on the 10,000 test images, calibrated int4 within 1
 * point. M-LSD tiny (npm jp.keijiro.mlsd, MobileNetV2 backbone, opset 11), on scenes not used for
 * calibration: the line offsets at calibrated int8 within cosine 0.999 of fp32 (the peak-selected
 * scores output is bounded lower, see the test), at calibrated int4 within 0.99. Every figure is measured on the quantized ONNX export for the default target,
 * whose Conv and LSTM weights must stay codes.
 */
class LayerCalibrationIT {
  static final Path MODELS = Path.of("target/fashion-models");
  static final Path SCRIPT = Path.of("src/main/python/fashion_models.py");

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"fashion_lstm", "fashion_mobilenet"})
  void trainedClassifiersKeepTheirAccuracy(String name) throws Exception {
    Path fp32 = FashionMnist.model(MODELS, name, SCRIPT);
    FashionMnist.Split test = FashionMnist.test();
    double base = FashionMnist.accuracy(FashionMnist.predict(fp32, name, test), test.labels());
    List<Map<String, OnnxCalibrator.Input>> calib = FashionMnist.calibration(name, 8, 32);

    CalibratedRun.Result int8 = CalibratedRun.run(fp32, Recipe.plain(Preset.INT8), calib, dir);
    int[] pred8 = FashionMnist.predict(int8.export(), name, test);
    double acc8 = FashionMnist.accuracy(pred8, test.labels());
    assertArrayEquals(pred8, FashionMnist.predict(int8.newestExport(), name, test), "1.16 and 1.29 exports agree");

    CalibratedRun.Result int4 = CalibratedRun.run(fp32, Recipe.gptq(Preset.INT4), calib, dir);
    double acc4 = FashionMnist.accuracy(FashionMnist.predict(int4.export(), name, test), test.labels());
    System.out.printf("%s: fp32 %.4f, int8 %.4f (%.2fx, export %d of %d bytes), int4 + GPTQ %.4f (%.2fx, export %d)%n",
        name, base, acc8, int8.ratio(), int8.exportBytes(), Files.size(fp32), acc4, int4.ratio(), int4.exportBytes());
    assertTrue(Math.abs(acc8 - base) <= 0.002, name + ": int8 " + acc8 + " vs fp32 " + base);
    assertTrue(acc4 >= base - 0.01, name + ": calibrated int4 " + acc4 + " vs fp32 " + base);
    // the Conv / LSTM weights stay int8 codes in the export: 2.9x-3.2x under the fp32 file (not 4x: biases, scales)
    assertTrue(int8.exportBytes() < Files.size(fp32) / 2.5, name + ": export " + int8.exportBytes() + " bytes");
    assertTrue(dequantizeNodes(int8.export()) >= 3, name + ": weights kept quantized by DequantizeLinear");
  }

  @Test
  void mlsdKeepsEveryOutputAtInt8AndItsLineOffsetsAtCalibratedInt4() throws Exception {
    Path fp32 = MobyDick.dataDir().resolve("mlsd/package/ONNX/mlsd_320x320_tiny.onnx");
    assertTrue(Files.exists(fp32), fp32 + " (unpacked by the build)");
    List<Map<String, OnnxCalibrator.Input>> calib = CalibratedRun.scenes(fp32, 100, 8);
    List<Map<String, OnnxCalibrator.Input>> eval = CalibratedRun.scenes(fp32, 1, 3);

    CalibratedRun.Result int8 = CalibratedRun.run(fp32, Recipe.gptq(Preset.INT8), calib, dir);
    double[] c8 = CalibratedRun.meanCosines(fp32, int8.export(), eval);
    // depthwise kernels stay lossless (under the default size rule): forcing them to 8 bits costs
    // M-LSD its offsets (docs/benchmarks.md)
    CalibratedRun.Result int4 = CalibratedRun.run(fp32, Recipe.gptq(Preset.INT4), calib, dir);
    double[] c4 = CalibratedRun.meanCosines(fp32, int4.export(), eval);
    System.out.printf("M-LSD tiny: int8 + GPTQ %.2fx export %d bytes, cosines %s; int4 + GPTQ %.2fx, %s%n",
        int8.ratio(), int8.exportBytes(), java.util.Arrays.toString(c8), int4.ratio(), java.util.Arrays.toString(c4));
    assertTrue(c8[0] >= 0.999, "calibrated int8 line offsets cosine " + c8[0]);
    // output 1 holds the scores after the model's own peak selection: a peak that changes place
    // moves a whole entry, so it stays short of 0.999 (0.960 at int8 + GPTQ, 0.654 at plain int8
    // in docs/benchmarks.md); bounded here well above plain int8
    assertTrue(c8[1] >= 0.85, "calibrated int8 scores cosine " + c8[1]);
    assertTrue(c4[0] >= 0.99, "calibrated int4 line offsets cosine " + c4[0]);
    assertTrue(int8.exportBytes() < Files.size(fp32) / 2.5, "int8 export " + int8.exportBytes() + " bytes of "
        + Files.size(fp32));
  }

  private static long dequantizeNodes(Path onnx) throws Exception {
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(onnx));
    return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).filter("DequantizeLinear"::equals).count();
  }
}
