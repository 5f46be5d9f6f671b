package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cortexsdr inspect IN.cai [--tensor REGEX] [--all] [--json]}: the manifest, a summary per
 * codec and bit width ({@link CodecSummary}), then the tensors asked for.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = CortexSdrCommand.Version.class,
    description = "Show what a .cai archive holds: a summary per codec and bit width (tensors, bytes, share), "
        + "then per tensor name, shape, codec, bits per weight, error for --tensor REGEX or --all.")
final class InspectCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IN.cai")
  Path in;

  @Option(names = "--tensor", paramLabel = "REGEX",
      description = "list the tensors whose name contains a match of REGEX (Java syntax)")
  String tensor;

  @Option(names = "--all", description = "list every tensor")
  boolean all;

  @Option(names = "--json", description = "print as JSON (the tensors: all, or those --tensor matches)")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    Pattern match;
    try {
      match = tensor == null ? null : Pattern.compile(tensor);
    } catch (PatternSyntaxException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--tensor: not a regular expression: "
          + e.getDescription() + " in " + tensor);
    }
    try (CaiReader cai = CaiReader.open(in)) {
      List<CaiEntry> listed = cai.entries().stream()
          .filter(e -> match == null || match.matcher(e.name()).find()).toList();
      CodecSummary summary = CodecSummary.of(cai.entries());
      long weights = 0;
      long stored = 0;
      for (CaiEntry e : cai.entries()) {
        weights += e.info().byteSize();
        stored += e.storedLength();
      }
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", in.toString());
        m.put("bytes", cai.size());
        m.put("formatVersion", cai.version());
        m.put("fileId", java.util.HexFormat.of().formatHex(cai.fileId()));
        m.put("manifest", cai.manifest());
        m.put("tensorBytes", weights);
        m.put("storedTensorBytes", stored);
        m.put("summary", summary.toJson());
        List<Object> ts = new ArrayList<>();
        for (CaiEntry e : listed) {
          Map<String, Object> t = new LinkedHashMap<>();
          t.put("name", e.name());
          t.put("dtype", e.info().dtype().name().toLowerCase(Locale.ROOT));
          List<Object> shape = new ArrayList<>();
          for (long d : e.info().shape()) {
            shape.add(d);
          }
          t.put("shape", shape);
          t.put("role", e.info().role().name().toLowerCase(Locale.ROOT));
          t.put("codec", e.describe());
          t.put("storedBytes", e.storedLength());
          t.put("bitsPerWeight", e.bitsPerWeight());
          t.put("nmse", (double) e.nmse());
          t.put("maxAbsError", (double) e.maxAbsError());
          ts.add(t);
        }
        m.put("tensors", ts);
        o.println(Json.write(m));
        return 0;
      }
      Object src = cai.manifest().get("source");
      Object opts = cai.manifest().get("options");
      o.printf(Locale.ROOT, "%s: .cai %s, %,d bytes, %d tensors%n", in, cai.version(), cai.size(), cai.entries().size());
      o.printf(Locale.ROOT, "  source: %s%n", src instanceof Map<?, ?> s ? s.get("format") : "?");
      o.printf(Locale.ROOT, "  preset: %s%n", opts instanceof Map<?, ?> p ? p.get("preset") : "?");
      if (src instanceof Map<?, ?> s && s.get("metadata") instanceof Map<?, ?> meta) {
        for (String key : List.of("calibration", "activation scaling", "rotation", "mixed precision")) {
          if (meta.get(key) != null) {
            o.printf(Locale.ROOT, "  %s: %s%n", key, meta.get(key));
          }
        }
      }
      if (cai.manifest().get(FidelityCheck.KEY) instanceof Map<?, ?> check) {
        o.printf(Locale.ROOT, "  output check: %s%n", FidelityCheck.describe(check));
      }
      o.printf(Locale.ROOT, "  weights: %,d bytes -> %,d stored (%.2fx)%n", weights, stored,
          stored == 0 ? 0.0 : (double) weights / stored);
      o.println();
      summary.print(o);
      if (match == null && !all) {
        o.printf(Locale.ROOT, "%n%d tensors: --tensor REGEX lists those whose name matches, --all lists every one%n",
            cai.entries().size());
        return 0;
      }
      o.println();
      if (listed.isEmpty()) {
        o.printf(Locale.ROOT, "no tensor name matches %s%n", tensor);
        return 0;
      }
      int w = 20;
      for (CaiEntry e : listed) {
        w = Math.max(w, Math.min(60, e.name().length()));
      }
      o.printf(Locale.ROOT, "%-" + w + "s  %-16s %-8s %-34s %8s %10s%n", "name", "shape", "dtype", "codec", "bits/w",
          "nmse");
      for (CaiEntry e : listed) {
        String name = e.name().length() > w ? "…" + e.name().substring(e.name().length() - w + 1) : e.name();
        o.printf(Locale.ROOT, "%-" + w + "s  %-16s %-8s %-34s %8.3f %10.3g%n", name,
            Arrays.toString(e.info().shape()).replace(" ", ""), e.info().dtype().name().toLowerCase(Locale.ROOT),
            e.describe(), e.bitsPerWeight(), e.nmse());
      }
    }
    return 0;
  }
}
