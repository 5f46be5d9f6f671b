package dev.selfbyt.cortexsdr.it.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Denormals on a real CNN (a main, run by {@code CaiOrtBench denormal}): the M-LSD detectors
 * (weights in Constant nodes) fp32 against their int8 {@code .cai}, each with and without ONNX
 * Runtime's {@code session.set_denormal_as_zero}; the {@code .cai} once through {@link CaiOrt}
 * with its defaults. One 320x320 input of a grey scene crossed by light lines; sessions take
 * turns; median ms and ratio to the fp32 original with default options.
 */
final class DenormalBench {
  private DenormalBench() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "integration-tests/target/denormal-bench"));
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    OrtEnvironment env = OrtEnvironments.get();
    StringBuilder sb = new StringBuilder();
    for (String name : List.of("mlsd_320x320_tiny", "mlsd_320x320_large")) {
      Path fp32 = MobyDick.dataDir().resolve("mlsd/package/ONNX/" + name + ".onnx");
      Path cai = dir.resolve(name + "-int8.cai");
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT8).threads(2).build());
      }
      Path decoded = dir.resolve(name + "-int8-decoded.onnx");
      try (CaiReader r = CaiReader.open(cai)) {
        OnnxExporter.exportDecoded(r, decoded);
      }
      Map<String, OrtSession> open = new LinkedHashMap<>();
      try {
        open.put("fp32 original", session(env, fp32, false));
        open.put("fp32 original, denormal_as_zero", session(env, fp32, true));
        open.put(".cai int8 decoded export (same graph)", session(env, decoded, false));
        open.put(".cai int8 decoded export, denormal_as_zero", session(env, decoded, true));
        open.put(".cai int8 via CaiOrt (default: denormal_as_zero)", CaiOrt.open(env, cai, CaiOrtBench.caiOptions().build()).session());
        Map<String, List<Long>> t = new LinkedHashMap<>();
        Map<String, OnnxTensor> in = input(env, open.values().iterator().next());
        for (Map.Entry<String, OrtSession> e : open.entrySet()) {
          t.put(e.getKey(), new ArrayList<>());
          for (int i = 0; i < 3; i++) {
            e.getValue().run(in).close();
          }
        }
        for (int r = 0; r < rounds; r++) {
          for (Map.Entry<String, OrtSession> e : open.entrySet()) {
            long t0 = System.nanoTime();
            e.getValue().run(in).close();
            t.get(e.getKey()).add(System.nanoTime() - t0);
          }
        }
        in.values().forEach(OnnxTensor::close);
        double base = CaiOrtBench.median(t.get("fp32 original"));
        sb.append(String.format(Locale.ROOT, "%n%s, ONNX Runtime %s, 2 intra-op threads, %d rounds%n%n| variant | median ms | vs fp32 original |%n|---|---|---|%n",
            name, env.getVersion(), rounds));
        for (Map.Entry<String, List<Long>> e : t.entrySet()) {
          double ms = CaiOrtBench.median(e.getValue());
          sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2fx |%n", e.getKey(), ms, ms / base));
        }
      } finally {
        for (OrtSession s : open.values()) {
          s.close();
        }
      }
    }
    System.out.println(sb);
  }

  private static OrtSession session(OrtEnvironment env, Path model, boolean flush) throws Exception {
    OrtSession.SessionOptions o = CaiOrtBench.options();
    if (flush) {
      o.addConfigEntry(CaiOrt.DENORMAL_AS_ZERO_KEY, "1");
    }
    return env.createSession(model.toString(), o);
  }

  /** NHWC [1, h, w, c]: grey 0.2, eight light diagonal-ish lines, last channel 1. */
  private static Map<String, OnnxTensor> input(OrtEnvironment env, OrtSession s) throws Exception {
    Map<String, OnnxTensor> in = new HashMap<>();
    for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
      long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape();
      int h = (int) shape[1];
      int w = (int) shape[2];
      int c = (int) shape[3];
      float[] x = new float[h * w * c];
      for (int y = 0; y < h; y++) {
        for (int p = 0; p < w; p++) {
          boolean line = false;
          for (int l = 0; l < 8; l++) {
            line |= Math.abs((y * (l + 1) / 3 + l * 37) % w - p) <= 1;
          }
          for (int k = 0; k < c; k++) {
            x[(y * w + p) * c + k] = k == 3 ? 1f : line ? 0.9f : 0.2f;
          }
        }
      }
      in.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape));
    }
    return in;
  }
}
