package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.djl.CaiModel;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * Latency of the vision models of {@code CnnEngineIT} (made by src/main/python/cnn_models.py) on
 * the CortexSDR DJL engine at int8, against ONNX Runtime on the fp32 original (the anchor) and on
 * the decoded int8 export, in one run (each runtime's calls in a block, as their idle threads spin
 * between calls). Defaults as a user
 * runs them: ONNX Runtime's default session options, the engine with no options.
 *
 * <p>{@code java -cp integration-tests/target/benchmarks.jar dev.selfbyt.cortexsdr.it.bench.CnnEngineBench
 * [MODELS_DIR] [RUNS]} (MODELS_DIR: integration-tests/target/cnn-models, left by the IT).
 */
public final class CnnEngineBench {
  private CnnEngineBench() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "integration-tests/target/cnn-models");
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    Path work = Files.createTempDirectory("cnn-bench");
    System.out.printf("load average %.2f, %d cores, %d runs (median ms)%n",
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), Runtime.getRuntime().availableProcessors(),
        runs);
    System.out.println("| model | ORT fp32 (anchor) | ORT decoded int8 | CortexSDR int8 | CortexSDR / anchor | weights in "
        + "memory, engine / fp32 |");
    System.out.println("|---|---|---|---|---|---|");
    for (String name : new String[] {"mobilenet_v3_small", "mobilenet_v3_large", "db_detector", "crnn", "svtr"}) {
      Path onnx = dir.resolve(name + ".onnx");
      if (!Files.isRegularFile(onnx)) {
        System.out.println("| " + name + " | missing: run CnnEngineIT first |");
        continue;
      }
      Path cai = work.resolve(name + ".cai");
      try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
        CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT8).build());
      }
      Path decoded = work.resolve(name + "-decoded.onnx");
      try (CaiReader r = CaiReader.open(cai)) {
        OnnxExporter.exportDecoded(r, decoded);
      }
      long[] shape = name.equals("db_detector") ? new long[] {1, 3, 256, 320}
          : name.equals("crnn") || name.equals("svtr") ? new long[] {1, 3, 32, 100} : new long[] {1, 3, 224, 224};
      float[] x = new float[(int) (shape[1] * shape[2] * shape[3])];
      Random rnd = new Random(1);
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) rnd.nextGaussian();
      }
      OrtEnvironment env = OrtEnvironments.get();
      Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(cai)
          .optEngine("CortexSDR").build();
      long[][] t = new long[3][runs];
      long resident;
      try (OrtSession fp32 = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
          OrtSession dec = env.createSession(decoded.toString(), new OrtSession.SessionOptions());
          OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
          ZooModel<NDList, NDList> model = criteria.loadModel();
          Predictor<NDList, NDList> p = model.newPredictor();
          NDManager nd = model.getNDManager().newSubManager()) {
        resident = ((CaiModel) model.getWrappedModel()).residentWeightBytes();
        String input = fp32.getInputNames().iterator().next();
        // one runtime after the other, not interleaved: each runtime's idle threads spin after a
        // call (ONNX Runtime's and ours), which would steal the two cores from the next one's call
        for (int r = -3; r < runs; r++) {
          long t0 = System.nanoTime();
          fp32.run(Map.of(input, in)).close();
          if (r >= 0) {
            t[0][r] = System.nanoTime() - t0;
          }
        }
        for (int r = -3; r < runs; r++) {
          long t0 = System.nanoTime();
          dec.run(Map.of(input, in)).close();
          if (r >= 0) {
            t[1][r] = System.nanoTime() - t0;
          }
        }
        for (int r = -3; r < runs; r++) {
          long t0 = System.nanoTime();
          try (NDManager step = nd.newSubManager()) {
            p.predict(new NDList(step.create(x, new Shape(shape))));
          }
          if (r >= 0) {
            t[2][r] = System.nanoTime() - t0;
          }
        }
      }
      double a = median(t[0]);
      double b = median(t[1]);
      double c = median(t[2]);
      System.out.printf("| %s | %.1f | %.1f | %.1f | %.2fx | %.1f / %.1f MB |%n", name, a, b, c, c / a, resident / 1e6,
          Files.size(onnx) / 1e6);
    }
  }

  private static double median(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2] / 1e6;
  }
}
