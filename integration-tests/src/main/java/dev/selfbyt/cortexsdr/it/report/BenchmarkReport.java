package dev.selfbyt.cortexsdr.it.report;

import dev.selfbyt.cortexsdr.it.djl.PyTorchBaseline;
import dev.selfbyt.cortexsdr.it.models.FashionMnistImages;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.it.sdr.SdrPocPlots;
import dev.selfbyt.cortexsdr.it.sdr.SdrPocReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The project's benchmark report (a main): measures every model the project can have offline and
 * writes {@code docs/benchmark-report.md} with its figures {@code docs/images/report-*.png}. See the
 * package comment for the sections and the code each one calls.
 *
 * <pre>
 * ./benchmark            # the full run, into docs/ (10-25 minutes on the shared 2 cores)
 * ./benchmark --quick    # the CI form, into integration-tests/target/report-quick/
 * </pre>
 *
 * <p>Options: {@code --quick}; {@code --out DIR} (writes {@code DIR/benchmark-report.md} and {@code
 * DIR/images/}); {@code --torchscript true|false} (DJL's PyTorch engine rows; default: when it is on
 * the class path, in a full run). Run from the repository root or from integration-tests.
 */
public final class BenchmarkReport {
  private BenchmarkReport() {}

  /**
   * What a run wrote.
   *
   * @param markdown the report
   * @param images its figures
   * @param sections the sections' titles in order
   */
  public record Written(Path markdown, List<Path> images, List<String> sections) {}

  /** Parses the options and runs the report. */
  public static void main(String[] args) throws Exception {
    boolean quick = false;
    Path out = null;
    String torch = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> quick = true;
        case "--out" -> out = Path.of(args[++i]);
        case "--torchscript" -> torch = args[++i];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + " (usage: BenchmarkReport [--quick] [--out DIR] [--torchscript true|false])");
      }
    }
    boolean torchScript = torch != null ? Boolean.parseBoolean(torch) : !quick && PyTorchBaseline.present();
    Written w = run(ReportConfig.of(quick, out, torchScript));
    System.out.println("wrote " + w.markdown());
    w.images().forEach(p -> System.out.println("wrote " + p));
  }

  /** Measures every section of {@code c}, then writes the figures and the markdown. */
  public static Written run(ReportConfig c) throws Exception {
    PyTorchBaseline.configureThreads(c.threads()); // before anything starts the PyTorch engine
    if (c.torchScript()) {
      PyTorchBaseline.require();
    }
    RunInfo info = RunInfo.capture();
    Files.createDirectories(c.work());
    SizeFidelity size = new SizeFidelity();
    EngineSection engine = new EngineSection();
    Throughput throughput = new Throughput();
    Map<String, List<SdrPocReport.Row>> sparsity = new LinkedHashMap<>();
    List<Section> sections = new ArrayList<>();

    sections.add(Section.run("Size against fidelity: sentence encoders", () -> size.text(c)
        + "\n![size against fidelity, sentence encoders](images/report-pareto-text.png)\n"));
    sections.add(Section.run("Size against fidelity: M-LSD", () -> size.mlsd(c)
        + "\n![size against fidelity, M-LSD](images/report-pareto-mlsd.png)\n"));
    sections.add(Section.run("Weights in memory after load (DJL engine)", () -> engine.memory(c, size.points)
        + "\n![weights in memory](images/report-memory.png)\n"));
    sections.add(Section.run("Latency per runtime path", () -> {
      Map<RealModel, Path> scripts = c.torchScript()
          ? PyTorchBaseline.torchScripts("make", c.textModels(), c.work(), "/usr/bin/python3",
              c.module().resolve("src/main/python/onnx_to_torchscript.py"))
          : Map.of();
      StringBuilder md = new StringBuilder(engine.latency(c, scripts, size.textRows));
      if (!c.torchScript()) {
        md.append("\nNo DJL PyTorch rows in this run (").append(c.quick() ? "--quick" : "PyTorch not on the class path")
            .append(").\n");
      }
      for (RealModel m : c.textModels()) {
        md.append(String.format(Locale.ROOT, "%n![latency, %s](images/report-latency-%s.png)%n", m.displayName(),
            ReportPlots.slug(m.displayName())));
      }
      return md.toString();
    }));
    sections.add(Section.run("Compression throughput", () -> {
      Map<String, Path> files = new LinkedHashMap<>();
      for (RealModel m : c.textModels()) {
        files.put(m.displayName(), m.onnx(c.work().resolve(m.name().toLowerCase(Locale.ROOT))));
      }
      for (String name : c.mlsd()) {
        files.put(name, MobyDick.dataDir().resolve("mlsd/package/ONNX/" + name + ".onnx"));
      }
      return throughput.run(c, files) + "\n![compression throughput](images/report-throughput.png)\n";
    }));
    sections.add(Section.run("Fashion-MNIST: accuracy against sparsity", () -> {
      StringBuilder md = new StringBuilder("Networks trained and pruned in Java with DJL's PyTorch engine "
          + "(`SparseTrainer`, fixed seed" + (c.quick() ? ", one epoch per stage in --quick" : "")
          + "), stored with `compress --preset sdr --sparsity S`, run on the 10,000 test images on ONNX Runtime "
          + "(`CaiOrt`, `SdrMatMul`/`SdrConv`) and on the DJL engine (`SdrPocReport`; latency: median ms and "
          + "ratio to the dense fp32 network on the same runtime).\n");
      for (String arch : c.archs()) {
        Path trained = c.module().resolve("target/sdr-poc").resolve(c.quick() ? "trained-quick" : "trained").resolve(arch);
        md.append(String.format(Locale.ROOT, "%n%s: %s%n", arch.toUpperCase(Locale.ROOT),
            Files.isRegularFile(trained.resolve("train.tsv"))
                ? "the trained networks of an earlier run, reused from " + trained + " (their PyTorch accuracy is that run's)"
                : "trained in this run"));
        List<SdrPocReport.Row> rows = SdrPocReport.run(c.module().resolve("target/sdr-poc"),
            FashionMnistImages.DEFAULT_DIR, arch, c.quick(), false, c.sdrRuns(), c.threads());
        sparsity.put(arch, rows);
        md.append(SdrPocReport.table(arch, rows, c.sdrRuns(), c.threads()));
      }
      md.append("\n![accuracy against sparsity](images/report-sparsity-accuracy.png)\n");
      md.append("\n![accuracy against size](images/report-sparsity-size.png)\n");
      for (String arch : c.archs()) {
        md.append(String.format(Locale.ROOT, "%n![latency, %s](images/report-sparsity-latency-%s.png)%n", arch, arch));
      }
      return md.toString();
    }));

    List<Path> images = plots(c, info, size, engine, throughput, sparsity);
    double loadAtEnd = RunInfo.loadAverage();
    ReportWriter.write(c.markdown(), ReportWriter.markdown(c, info, Instant.now().truncatedTo(
        java.time.temporal.ChronoUnit.SECONDS), loadAtEnd, sections));
    return new Written(c.markdown(), images, sections.stream().map(Section::title).toList());
  }

  private static List<Path> plots(ReportConfig c, RunInfo info, SizeFidelity size, EngineSection engine,
      Throughput throughput, Map<String, List<SdrPocReport.Row>> sparsity) throws Exception {
    String sub = LocalDate.ofInstant(info.started(), ZoneOffset.UTC) + (c.quick() ? ", --quick" : "");
    Path dir = c.images();
    List<String> text = c.textModels().stream().map(RealModel::displayName).toList();
    List<Path> out = new ArrayList<>();
    out.add(ReportPlots.save(ReportPlots.pareto(size.points, text::contains, "Sentence encoders: size against "
        + "fidelity (" + sub + ")", "mean cosine of pooled embeddings vs fp32"), dir, "report-pareto-text"));
    out.add(ReportPlots.save(ReportPlots.pareto(size.points, c.mlsd()::contains, "M-LSD: size against fidelity ("
        + sub + ")", "mean cosine vs fp32, the worse output"), dir, "report-pareto-mlsd"));
    out.add(ReportPlots.save(ReportPlots.memory(engine.fidelity, sub), dir, "report-memory"));
    for (RealModel m : c.textModels()) {
      out.add(ReportPlots.save(ReportPlots.latency(m.displayName(), engine.latency.get(m), size.textRows.get(m), sub),
          dir, "report-latency-" + ReportPlots.slug(m.displayName())));
    }
    out.add(ReportPlots.save(ReportPlots.throughput(throughput.rows, sub), dir, "report-throughput"));
    // the proof of concept's own figures, under the report's names
    Path tmp = Files.createDirectories(c.work().resolve("sdr-plots"));
    for (Path p : SdrPocPlots.write(sparsity, tmp, sub)) {
      Path target = dir.resolve(p.getFileName().toString().replace("sdr-poc-", "report-sparsity-"));
      Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
      out.add(target);
    }
    return out;
  }
}
