package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.it.torch.TorchFixtures;
import dev.selfbyt.cortexsdr.pytorch.CaiTorch;
import dev.selfbyt.cortexsdr.pytorch.PyTorchNatives;
import dev.selfbyt.cortexsdr.pytorch.TorchFidelity;
import dev.selfbyt.cortexsdr.pytorch.TorchScriptReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * TorchScript models through {@code .cai}, in one run: size and compress time per preset, output NMSE
 * on seeded inputs (vision models), and the time to load the {@code .cai} into DJL's PyTorch engine
 * ({@code CaiTorch.load}: decode the weights into the skeleton, PyTorch reads the module from memory)
 * against loading the original {@code .pt} the same way (the anchor; both from their bytes, {@code
 * Model.load(InputStream)}), as a ratio. Loads alternate (original, each {@code .cai}) for {@code
 * --repeats} rounds after one warm-up round; medians. Defaults as a user runs it: no tuning flags.
 *
 * <p>{@code mvn -B -ntp -Ppytorch -pl integration-tests -am package -DskipTests} then {@code java -cp
 * 'integration-tests/target/benchmarks.jar:integration-tests/target/pytorch-lib/*'
 * dev.selfbyt.cortexsdr.it.bench.TorchScriptBench [--models resnet50,vit_b_16,minilm,bge]
 * [--presets int8,int4] [--repeats 5]} (fixtures under integration-tests/target/torchscript, made on
 * first use with Debian's PyTorch).
 */
public final class TorchScriptBench {
  private TorchScriptBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    List<String> models = List.of(a.getOrDefault("models", "resnet50,vit_b_16,minilm,bge").split(","));
    List<Preset> presets = new ArrayList<>();
    for (String p : a.getOrDefault("presets", "int8,int4").split(",")) {
      presets.add(Preset.parse(p));
    }
    int repeats = Integer.parseInt(a.getOrDefault("repeats", "5"));
    PyTorchNatives.require("TorchScriptBench");
    TorchFixtures fixtures = TorchFixtures.inModule();
    Path work = Files.createTempDirectory("torchscript-bench");
    System.out.printf(Locale.ROOT, "load average %.2f at start, %d cores; %d load rounds after a warm-up, median ms%n",
        load(), Runtime.getRuntime().availableProcessors(), repeats);
    StringBuilder sizes = new StringBuilder(
        "| model | variant | bytes | ratio | compress ms | output NMSE | load ms (median) | load vs .pt |\n"
            + "|---|---|---|---|---|---|---|---|\n");
    for (String m : models) {
      Path pt = fixture(fixtures, m);
      boolean vision = !m.equals("minilm") && !m.equals("bge");
      Map<String, Path> cais = new LinkedHashMap<>();
      Map<String, String> rows = new LinkedHashMap<>();
      for (Preset p : presets) {
        Path cai = work.resolve(m + "-" + p.id() + ".cai");
        long t0 = System.nanoTime();
        CompressionStats s;
        try (TorchScriptReader r = TorchScriptReader.open(pt)) {
          s = CortexSdr.compress(r, cai, CompressionOptions.builder().preset(p).build());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String nmse = "-";
        if (vision) {
          nmse = String.format(Locale.ROOT, "%.2e", TorchFidelity.compare(pt, cai,
              TorchFidelity.randomInputs(42, 2, new Shape(1, 3, 224, 224))).nmse());
        }
        cais.put(p.id(), cai);
        rows.put(p.id(), String.format(Locale.ROOT, "| %s | `.cai` %s | %,d | %.2fx | %d | %s |", m, p.id(),
            s.outputBytes(), (double) Files.size(pt) / s.outputBytes(), ms, nmse));
      }
      Map<String, List<Double>> times = new LinkedHashMap<>();
      times.put("pt", new ArrayList<>());
      for (String k : cais.keySet()) {
        times.put(k, new ArrayList<>());
      }
      for (int round = 0; round <= repeats; round++) {
        double t = loadPt(pt);
        if (round > 0) {
          times.get("pt").add(t);
        }
        for (Map.Entry<String, Path> e : cais.entrySet()) {
          double c = loadCai(e.getValue());
          if (round > 0) {
            times.get(e.getKey()).add(c);
          }
        }
      }
      double anchor = median(times.get("pt"));
      sizes.append(String.format(Locale.ROOT, "| %s | original TorchScript (anchor) | %,d | 1.00x | - | 0 | %.0f | 1.00x |%n",
          m, Files.size(pt), anchor));
      for (Map.Entry<String, String> e : rows.entrySet()) {
        double t = median(times.get(e.getKey()));
        sizes.append(e.getValue()).append(String.format(Locale.ROOT, " %.0f | %.2fx |%n", t, t / anchor));
      }
      for (Path c : cais.values()) {
        Files.deleteIfExists(c);
      }
    }
    System.out.print(sizes);
    System.out.printf(Locale.ROOT, "load average %.2f at end%n", load());
  }

  private static Path fixture(TorchFixtures f, String m) throws Exception {
    return switch (m) {
      case "resnet50" -> f.vision(TorchFixtures.Vision.RESNET50);
      case "vit_b_16" -> f.vision(TorchFixtures.Vision.VIT_B_16);
      case "minilm" -> f.encoder(RealModel.MINILM);
      case "bge" -> f.encoder(RealModel.BGE_SMALL);
      default -> throw new IllegalArgumentException("--models: unknown model " + m
          + " (resnet50, vit_b_16, minilm, bge)");
    };
  }

  private static double loadPt(Path pt) throws Exception {
    long t0 = System.nanoTime();
    try (Model m = TorchFidelity.loadTorchScript(pt)) {
      return (System.nanoTime() - t0) / 1e6;
    }
  }

  private static double loadCai(Path cai) throws Exception {
    long t0 = System.nanoTime();
    try (ZooModel<NDList, NDList> m = CaiTorch.load(cai, new NoopTranslator())) {
      return (System.nanoTime() - t0) / 1e6;
    }
  }

  private static double median(List<Double> v) {
    double[] s = v.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
