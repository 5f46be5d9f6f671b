package dev.selfbyt.cortexsdr.it.report;

import dev.selfbyt.cortexsdr.it.djl.DjlEngineReport;
import dev.selfbyt.cortexsdr.it.models.ModelReport;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The DJL engine through {@link DjlEngineReport}: weights in memory after load with the engine's
 * fidelity, and latency against ONNX Runtime fp32, its int8 twin and DJL's PyTorch engine in one run.
 */
final class EngineSection {
  /** Per {@code .cai} on the engine: fidelity and memory. */
  final List<DjlEngineReport.Fidelity> fidelity = new ArrayList<>();
  /** Per model, the timed calls of the latency run. */
  final Map<RealModel, DjlEngineReport.Times> latency = new LinkedHashMap<>();

  /** Weights in memory after load, per {@code .cai} on the DJL engine; adds the engine's points. */
  String memory(ReportConfig c, List<Point> points) throws Exception {
    DjlEngineReport.includeW8a8(c.int8Fast());
    for (RealModel m : c.textModels()) {
      List<DjlEngineReport.Fidelity> rows = DjlEngineReport.fidelity(m, c.enginePresets(), c.sentences(), c.threads(),
          c.work());
      fidelity.addAll(rows);
      long fp32Bytes = fp32FileBytes(c, m);
      for (DjlEngineReport.Fidelity f : rows) {
        points.add(new Point(f.model(), "DJL engine CortexSDR", ".cai " + f.preset() + " on the DJL engine",
            (double) fp32Bytes / f.caiBytes(), f.meanCosVsFp32()));
      }
    }
    return "Each `.cai` loaded with `Criteria...optEngine(\"CortexSDR\")` (DJL's text-embedding translator). "
        + "\"weights in memory\": what the engine keeps resident after load (quantized weights stay packed); "
        + "\"fp32 weights\": the same tensors as fp32. Fidelity on the same sentences as above; against the same "
        + "`.cai` decoded and run in ONNX Runtime it shows the engine's own error.\n\n"
        + DjlEngineReport.markdown(fidelity, c.sentences());
  }

  private static long fp32FileBytes(ReportConfig c, RealModel m) throws Exception {
    return java.nio.file.Files.size(m.onnx(c.work().resolve(m.name().toLowerCase(Locale.ROOT))));
  }

  /**
   * The DJL engine's latency run per model, then the ONNX Runtime paths timed by the size section's
   * run ({@code textRows}), each against the ONNX Runtime fp32 anchor of its own run.
   */
  String latency(ReportConfig c, Map<RealModel, Path> torchScripts, Map<RealModel, List<ModelReport.Row>> textRows)
      throws Exception {
    DjlEngineReport.includeW8a8(c.int8Fast());
    StringBuilder sb = new StringBuilder();
    sb.append("Run A, the DJL runtimes: ONNX Runtime fp32 (the anchor), ONNX Runtime's int8 twin (with the "
        + "`int8-fast` file), the `.cai` files on the DJL engine `CortexSDR` and, when present, DJL's PyTorch "
        + "engine on the same network as TorchScript; every row tokenizes, runs and pools one 128-token text.\n");
    for (RealModel m : c.textModels()) {
      DjlEngineReport.Times t = DjlEngineReport.latencyTimes(m, c.enginePresets(), c.latencyRuns(), c.threads(),
          c.work(), torchScripts.get(m));
      latency.put(m, t);
      sb.append(t.markdown(m, c.threads()));
    }
    sb.append(String.format(Locale.ROOT, "%nRun B, ONNX Runtime sessions (the size section's run): the fp32 "
        + "file, the int8 twin and the quantized exports, batch 1, 128 tokens, %d threads, median of %d calls, "
        + "the sessions taking turns one call each.%n%n| model | ONNX Runtime session | median ms | vs fp32 |%n"
        + "|---|---|---|---|%n", c.threads(), c.latencyRuns()));
    for (List<ModelReport.Row> rows : textRows.values()) {
      double base = rows.get(0).latencyMs();
      for (ModelReport.Row r : rows) {
        if (!Double.isNaN(r.latencyMs())) {
          sb.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2fx |%n", r.model(), r.variant(), r.latencyMs(),
              r.latencyMs() / base));
        }
      }
    }
    return sb.toString();
  }
}
