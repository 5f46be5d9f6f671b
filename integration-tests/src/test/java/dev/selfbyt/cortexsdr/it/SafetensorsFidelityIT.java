package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsReader;
import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsWriter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.it.models.WeightFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MiniLM from safetensors (PyTorch's names and {@code [out, in]} layout, written by {@code
 * weight_files.py}) at int8 and int4 against the ONNX route from the same weights: the decoded
 * weights are put back into the fp32 ONNX graph by name and run in ONNX Runtime on 200 Moby-Dick
 * sentences, cosine of the pooled embeddings to the fp32 model's.
 */
class SafetensorsFidelityIT {
  @TempDir static Path work;
  static Path minilm;
  static Path tokenizer;

  @BeforeAll
  static void fixtures() throws Exception {
    Assumptions.assumeTrue(WeightFiles.available(), WeightFiles.PYTHON + " lacks torch, torchvision or onnx "
        + "(apt-get install python3-torch python3-torchvision python3-onnx)");
    minilm = RealModel.MINILM.onnx(work);
    tokenizer = RealModel.MINILM.tokenizer(work);
    WeightFiles.run("safetensors", minilm.toString(), work.resolve("minilm-f32").toString());
  }

  private static CompressionStats compress(Path in, Path cai, Preset preset) throws Exception {
    try (TensorSource s = in.getFileName().toString().endsWith(".onnx") ? OnnxModelReader.open(in)
        : SafetensorsReader.open(in)) {
      return CortexSdr.compress(s, cai, CompressionOptions.builder().preset(preset).build());
    }
  }

  /** The ratios and the fidelity of the ONNX route, from the same weights stored as PyTorch stores them. */
  @Test
  void miniLmFromSafetensorsMatchesTheOnnxRoute() throws Exception {
    List<Encoding> enc = Embedder.encodeAll(tokenizer, 128, MobyDick.sentences(200, 0));
    float[][] reference;
    try (Embedder e = new Embedder(minilm, RealModel.Pooling.MEAN, 2)) {
      reference = e.embedAll(enc);
    }
    Path st = work.resolve("minilm-f32/model.safetensors");
    StringBuilder table = new StringBuilder("| preset | route | bytes | ratio | mean cosine | min cosine |\n"
        + "|---|---|---:|---:|---:|---:|\n");
    for (Preset preset : List.of(Preset.INT8, Preset.INT4)) {
      String p = preset.id();
      Path onnxCai = work.resolve("onnx-" + p + ".cai");
      CompressionStats onnxStats = compress(minilm, onnxCai, preset);
      Path onnxDecoded = work.resolve("onnx-" + p + "-decoded.onnx");
      try (CaiReader r = CaiReader.open(onnxCai)) {
        OnnxExporter.exportDecoded(r, onnxDecoded);
      }
      Path stCai = work.resolve("st-" + p + ".cai");
      CompressionStats stStats = compress(st, stCai, preset);
      Path stDecoded = work.resolve("st-" + p + ".safetensors");
      try (CaiReader r = CaiReader.open(stCai)) {
        SafetensorsWriter.write(r, stDecoded);
      }
      Path stOnnx = WeightFiles.intoOnnx(minilm, stDecoded, work.resolve("minilm-f32/names.json"),
          work.resolve("st-" + p + "-decoded.onnx"));
      double[] onnx = cosines(onnxDecoded, enc, reference);
      double[] fromSt = cosines(stOnnx, enc, reference);
      table.append(String.format(Locale.ROOT, "| %s | ONNX | %,d | %.2fx | %.5f | %.5f |%n", p, onnxStats.outputBytes(),
          onnxStats.ratio(), onnx[0], onnx[1]));
      table.append(String.format(Locale.ROOT, "| %s | safetensors | %,d | %.2fx | %.5f | %.5f |%n", p,
          stStats.outputBytes(), stStats.ratio(), fromSt[0], fromSt[1]));
      assertEquals(onnxStats.ratio(), stStats.ratio(), 0.005 * onnxStats.ratio(), p + ": the same ratio");
      assertEquals(onnx[0], fromSt[0], 0.0005, p + ": mean cosine within 0.0005 of the ONNX route");
      assertTrue(fromSt[0] < 1.0, p + " is lossy: the measurement can tell");
    }
    System.out.println("MiniLM, 200 Moby-Dick sentences, cosine to fp32 (ONNX Runtime):\n" + table);
  }

  private static double[] cosines(Path onnx, List<Encoding> enc, float[][] reference) throws Exception {
    double sum = 0;
    double min = 1;
    try (Embedder e = new Embedder(onnx, RealModel.Pooling.MEAN, 2)) {
      for (int i = 0; i < enc.size(); i++) {
        double c = Embedder.cosine(e.embed(enc.get(i)), reference[i]);
        sum += c;
        min = Math.min(min, c);
      }
    }
    return new double[] {sum / enc.size(), min};
  }
}
