package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.djl.DjlEngineReport;
import dev.selfbyt.cortexsdr.it.djl.DjlEngineReport.Fidelity;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real sentence encoders as {@code .cai} files through {@code Criteria...optEngine("CortexSDR")}
 * with DJL's text-embedding translator, no PyTorch on the classpath: the engine adds no error of
 * its own (against the same file decoded and run in ONNX Runtime), int8 keeps the fp32 model's
 * embeddings, and int4 weights take at most a fifth of their fp32 memory. Fewer sentences than
 * the bench main ({@code DjlEngineReport}, 200) to keep the build short.
 */
class DjlEngineIT {
  @TempDir Path work;

  @ParameterizedTest
  @EnumSource(RealModel.class)
  void engineMatchesOnnxRuntimeAndKeepsWeightsSmall(RealModel model) throws Exception {
    assertFalse(Engine.hasEngine("PyTorch"), "this test runs without PyTorch");
    List<Fidelity> rows = DjlEngineReport.fidelity(model, List.of(Preset.INT8, Preset.INT4), 48, 2, work);
    System.out.println(DjlEngineReport.markdown(rows, 48));
    for (Fidelity f : rows) {
      assertTrue(f.minCosVsDecoded() >= 0.9999, "the engine adds no error of its own: " + f);
    }
    Fidelity int8 = rows.get(0);
    assertTrue(int8.meanCosVsFp32() >= 0.999, "int8 fidelity: " + int8);
    Fidelity int4 = rows.get(1);
    assertTrue(int4.residentWeightBytes() * 5 <= int4.fp32WeightBytes(), "int4 weights in memory: " + int4);
  }
}
