package dev.selfbyt.cortexsdr.it.report;

import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.models.CalibratedRun;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What one run of {@link BenchmarkReport} measures and where it writes.
 *
 * @param quick the CI form: one text model, few sentences and calls
 * @param textModels the sentence encoders (each with ONNX Runtime's int8 twin)
 * @param presets the presets compressed for size and fidelity
 * @param methods calibration methods added per non-lossless preset ({@code gptq}, ...)
 * @param calibration calibration sentences for those rows (0: none)
 * @param sentences evaluation sentences per text model
 * @param latencyRuns timed calls per runtime path
 * @param threads intra-op threads of every runtime
 * @param enginePresets the presets run on the DJL engine
 * @param int8Fast whether the text-calibrated {@code int8-fast} file is measured on the DJL engine
 * @param torchScript whether DJL's PyTorch engine runs the same network as TorchScript
 * @param mlsd M-LSD variants ({@code mlsd_320x320_tiny}, ...)
 * @param mlsdRecipes how M-LSD is compressed
 * @param mlsdScenes evaluation scenes for M-LSD
 * @param compressReps warm compressions after the cold one
 * @param archs Fashion-MNIST networks ({@code mlp}, {@code cnn})
 * @param sdrRuns timed calls per cell of the sparsity section
 * @param module the integration-tests folder (data, scripts, target)
 * @param markdown the report file
 * @param images the folder of its PNG figures
 * @param work where models and compressed files go
 */
public record ReportConfig(boolean quick, List<RealModel> textModels, List<Preset> presets, List<String> methods,
    int calibration, int sentences, int latencyRuns, int threads, List<Preset> enginePresets, boolean int8Fast,
    boolean torchScript, List<String> mlsd, List<CalibratedRun.Recipe> mlsdRecipes, int mlsdScenes,
    int compressReps, List<String> archs, int sdrRuns, Path module, Path markdown, Path images, Path work) {

  /** The full run, writing into the repository's docs folder, or the quick one into {@code out}. */
  public static ReportConfig of(boolean quick, Path out, boolean torchScript) {
    Path module = Files.isDirectory(Path.of("integration-tests")) ? Path.of("integration-tests") : Path.of(".");
    Path docs = out != null ? out : quick ? module.resolve("target/report-quick") : module.resolve("../docs").normalize();
    Path work = module.resolve(quick ? "target/report-work-quick" : "target/report-work");
    List<CalibratedRun.Recipe> plain = List.of(CalibratedRun.Recipe.plain(Preset.INT8),
        CalibratedRun.Recipe.plain(Preset.INT4));
    if (quick) {
      return new ReportConfig(true, List.of(RealModel.MINILM), List.of(Preset.INT8, Preset.INT4), List.of(), 0, 16,
          10, 2, List.of(Preset.INT8), false, false, List.of("mlsd_320x320_tiny"), plain, 2, 1, List.of("mlp"), 5,
          module, docs.resolve("benchmark-report.md"), docs.resolve("images"), work);
    }
    return new ReportConfig(false, List.of(RealModel.MINILM, RealModel.BGE_SMALL),
        // no GPTQ rows: on the shared machine they alone took minutes per model (benchmarks.md has them);
        // the calibrated variant measured is int8-fast, calibrated on text, on the DJL engine
        List.of(Preset.INT8, Preset.INT4, Preset.LOSSLESS), List.of(), 0, 100, 30, 2,
        List.of(Preset.INT8, Preset.INT4), true, torchScript, List.of("mlsd_320x320_tiny", "mlsd_320x320_large"),
        List.of(CalibratedRun.Recipe.plain(Preset.INT8), CalibratedRun.Recipe.plain(Preset.INT4),
            CalibratedRun.Recipe.plain(Preset.LOSSLESS)), 8, 2, List.of("mlp", "cnn"), 50, module,
        docs.resolve("benchmark-report.md"), docs.resolve("images"), work);
  }
}
