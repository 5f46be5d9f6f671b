package dev.selfbyt.cortexsdr.it.ortversions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import dev.selfbyt.cortexsdr.onnxops.SdrMatMulRewriter;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compatibility matrix of docs/onnxruntime.md, measured: all-MiniLM-L6-v2 compressed with the
 * int8, int4 and sdr presets, exported for the default target ({@link
 * QuantizedOnnxExporter#oldestKeepingQuantized}) and for the newest, and opened as {@code .cai}
 * with {@code CaiOrt.open} (SdrMatMul for every SDR weight where the runtime can load it), each run in real ONNX Runtime releases from Maven Central (one JVM per
 * release, {@link OrtVersionProbe}) and once beside DJL's {@code onnxruntime-engine} 0.36.0 with
 * the ONNX Runtime 1.21.1 it brings. Every file must load where its target says it does and fail
 * where it says it does not, and every output must match the same file's output in ONNX Runtime
 * 1.29.0 to a cosine of at least {@value #MIN_COSINE} over the 32 x 384 hidden states.
 */
class OnnxRuntimeVersionsIT {
  /** Same weights and graph in another release: only kernels' summation order may differ. */
  static final double MIN_COSINE = 0.99999;

  static final List<String> RUNTIMES = List.of("1.16.3", "1.17.3", "1.20.0", "1.21.1", "1.22.0", "1.23.2", "1.29.0");

  static final Path VERSIONS = Path.of("target/ort-versions");

  @TempDir Path dir;

  @Test
  void miniLmExportsAndCaiFilesRunInEveryOnnxRuntimeTheyTarget() throws Exception {
    Map<String, OrtVersion> files = files(); // file -> oldest runtime it must load in
    List<Path> paths = files.keySet().stream().map(dir::resolve).toList();
    Map<String, Map<String, Boolean>> loads = new TreeMap<>();
    Map<String, Map<String, Double>> cosines = new TreeMap<>();
    Map<String, Map<String, Double>> maxDiffs = new TreeMap<>();
    Map<String, float[]> reference = null;
    Map<String, Map<String, String>> failures = new TreeMap<>();
    // newest first: the reference outputs
    List<String> order = new ArrayList<>(RUNTIMES);
    java.util.Collections.reverse(order);
    for (String v : order) {
      Map<String, String> r = probe(v, List.of(VERSIONS.resolve("onnxruntime-" + v + ".jar")), false, paths);
      Map<String, float[]> outputs = outputs(r);
      if (reference == null) {
        reference = outputs;
      }
      for (String f : files.keySet()) {
        loads.computeIfAbsent(f, k -> new LinkedHashMap<>()).put(v, r.get(f).equals("OK"));
        if (!r.get(f).equals("OK")) {
          failures.computeIfAbsent(f, k -> new LinkedHashMap<>()).put(v, r.get(f));
        } else {
          cosines.computeIfAbsent(f, k -> new LinkedHashMap<>()).put(v, cosine(reference.get(f), outputs.get(f)));
          maxDiffs.computeIfAbsent(f, k -> new LinkedHashMap<>()).put(v, maxAbsDiff(reference.get(f), outputs.get(f)));
        }
      }
    }
    System.out.println(table(files, loads, cosines, maxDiffs));
    failures.forEach((f, m) -> m.forEach((v, why) -> System.out.println(f + " in " + v + ": " + why)));
    for (String f : files.keySet()) {
      for (String v : RUNTIMES) {
        boolean should = OrtVersion.ofRuntime(v).atLeast(files.get(f));
        assertEquals(should, loads.get(f).get(v), f + " in ONNX Runtime " + v + ": " + failures.getOrDefault(f, Map.of()).get(v));
        if (should) {
          double c = cosines.get(f).get(v);
          assertTrue(c >= MIN_COSINE, f + " in " + v + ": cosine " + c + " to 1.29.0");
        }
      }
    }
    // the default-target export and the newest one hold the same weights: same outputs
    for (String preset : List.of("int8", "int4")) {
      double c = cosine(reference.get("minilm-" + preset + ".default.onnx"), reference.get("minilm-" + preset + ".newest.onnx"));
      assertTrue(c >= MIN_COSINE, preset + ": default vs newest export " + c);
    }

    // beside DJL's onnxruntime-engine 0.36.0, in one class path with the ONNX Runtime it brings
    List<Path> djlFiles = List.of(dir.resolve("minilm-int8.default.onnx"), dir.resolve("minilm-int4.default.onnx"),
        dir.resolve("minilm-int8.cai"), dir.resolve("minilm-sdr.cai"));
    Map<String, String> r = probe("1.21.1", List.of(VERSIONS.resolve("onnxruntime-1.21.1.jar"),
        VERSIONS.resolve("onnxruntime-engine-0.36.0.jar")), true, djlFiles);
    assertTrue(r.get("RUNTIME").startsWith("1.21.1 (DJL 0.36.0 engine OnnxRuntime"), r.get("RUNTIME"));
    Map<String, float[]> outputs = outputs(r);
    for (Path p : djlFiles) {
      String f = p.getFileName().toString();
      assertEquals("OK", r.get(f), f + " beside DJL's onnxruntime-engine");
      double c = cosine(reference.get(f), outputs.get(f));
      System.out.printf(java.util.Locale.ROOT, "DJL 0.36.0 onnxruntime-engine (ONNX Runtime 1.21.1): %s cosine %.9f, "
          + "max |difference| %.1e to 1.29.0%n", f, c, maxAbsDiff(reference.get(f), outputs.get(f)));
      assertTrue(c >= MIN_COSINE, f + " via DJL: cosine " + c);
    }
  }

  /** Compresses MiniLM and writes the files of the matrix; returns each with the oldest runtime it targets. */
  private Map<String, OrtVersion> files() throws Exception {
    Path onnx = RealModel.MINILM.onnx(dir);
    Map<String, OrtVersion> files = new LinkedHashMap<>();
    OrtVersion plain = QuantizedOnnxExporter.oldestKeepingQuantized(false);
    OrtVersion custom = QuantizedOnnxExporter.oldestKeepingQuantized(true);
    for (Preset preset : List.of(Preset.INT8, Preset.INT4, Preset.SDR)) {
      String name = "minilm-" + preset.name().toLowerCase(java.util.Locale.ROOT);
      Path cai = dir.resolve(name + ".cai");
      try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
        CortexSdr.compress(r, cai, CompressionOptions.builder().preset(preset).threads(2).build());
      }
      files.put(name + ".cai", plain); // CaiOrt targets the runtime it runs in
      if (preset == Preset.SDR) {
        // every SDR MatMul weight as SdrMatMul, whatever its sparsity: the operator library is what is tested
        List<QuantizedOnnxExporter.Form> forms = CaiOrt.export(cai, dir.resolve(name + ".sdrmatmul.onnx"),
            SdrMatMulRewriter.withMinSparsity(0), custom);
        assertEquals(36, forms.stream().filter(f -> f.form().startsWith("SdrMatMul")).count(), "SdrMatMul nodes");
        files.put(name + ".sdrmatmul.onnx", custom);
        continue;
      }
      try (CaiReader r = CaiReader.open(cai)) {
        QuantizedOnnxExporter.export(r, dir.resolve(name + ".default.onnx"), 0, plain);
        QuantizedOnnxExporter.export(r, dir.resolve(name + ".newest.onnx"), 0, OrtVersion.NEWEST);
      }
      files.put(name + ".default.onnx", plain);
      files.put(name + ".newest.onnx", OrtVersion.EIGHT_BIT_BLOCKS); // GatherBlockQuantized bits
    }
    return files;
  }

  /** Runs {@link OrtVersionProbe} in a new JVM on the test class path plus {@code jars}. */
  private Map<String, String> probe(String version, List<Path> jars, boolean djl, List<Path> files) throws Exception {
    for (Path j : jars) {
      assertTrue(Files.exists(j), j + " is copied by the build (maven-dependency-plugin, ort-versions)");
    }
    List<String> cp = new ArrayList<>(List.of("target/test-classes", "target/classes"));
    jars.forEach(j -> cp.add(j.toString()));
    cp.add(Files.readString(VERSIONS.resolve("classpath.txt")).strip());
    Path out = Files.createDirectories(dir.resolve("out-" + version + (djl ? "-djl" : "")));
    // the class path goes in an @argfile: started from a JVM (failsafe's), JDK 17's launcher was
    // seen to kill the child with SIGSEGV before it printed anything when the command line got this long
    Path args = out.resolve("classpath.args");
    Files.writeString(args, "-cp \"" + String.join(File.pathSeparator, cp) + "\"\n");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // CaiOrt too turns every SDR weight into SdrMatMul where the runtime can load it (1.17+)
        "-Dai.djl.offline=true", "-D" + SdrMatMulRewriter.MIN_SPARSITY_PROPERTY + "=0",
        "-XX:ErrorFile=" + out.resolve("hs_err_%p.log"), "@" + args, OrtVersionProbe.class.getName()));
    if (djl) {
      cmd.add("--djl");
    }
    cmd.add(out.toString());
    files.forEach(f -> cmd.add(f.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = p.waitFor();
    if (exit != 0) {
      try (var crash = Files.list(out)) {
        for (Path c : crash.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList()) {
          log += "\n" + Files.readString(c).lines().limit(40).reduce("", (a, b) -> a + "\n" + b);
        }
      }
    }
    assertEquals(0, exit, "ONNX Runtime " + version + ": " + log);
    Map<String, String> results = new LinkedHashMap<>();
    results.put("OUT", out.toString());
    for (String line : log.lines().toList()) {
      if (line.startsWith("RUNTIME ")) {
        results.put("RUNTIME", line.substring(8));
      } else if (line.startsWith("RESULT ")) {
        String[] parts = line.split(" ", 3);
        results.put(parts[1], parts[2]);
      }
    }
    assertTrue(results.getOrDefault("RUNTIME", "").startsWith(version), "the JVM runs ONNX Runtime " + version + ": " + log);
    for (Path f : files) {
      assertTrue(results.containsKey(f.getFileName().toString()), f + " has a result: " + log);
    }
    return results;
  }

  private static Map<String, float[]> outputs(Map<String, String> results) throws Exception {
    Map<String, float[]> out = new LinkedHashMap<>();
    Path dir = Path.of(results.get("OUT"));
    for (Map.Entry<String, String> e : results.entrySet()) {
      if (e.getValue().equals("OK")) {
        byte[] b = Files.readAllBytes(dir.resolve(e.getKey() + ".f32"));
        float[] v = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        out.put(e.getKey(), v);
      }
    }
    return out;
  }

  private static String table(Map<String, OrtVersion> files, Map<String, Map<String, Boolean>> loads,
      Map<String, Map<String, Double>> cosines, Map<String, Map<String, Double>> maxDiffs) {
    StringBuilder sb = new StringBuilder("| file (targets) |");
    RUNTIMES.forEach(v -> sb.append(' ').append(v).append(" |"));
    sb.append("\n|---|").append("---|".repeat(RUNTIMES.size())).append('\n');
    for (String f : files.keySet()) {
      sb.append("| `").append(f).append("` (").append(files.get(f)).append("+) |");
      for (String v : RUNTIMES) {
        Double c = cosines.getOrDefault(f, Map.of()).get(v);
        sb.append(loads.get(f).get(v) ? String.format(java.util.Locale.ROOT, " loads, %.9f, %.1e |", c,
            maxDiffs.get(f).get(v)) : " refused |");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  static double maxAbsDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  static double cosine(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double d = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      d += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return d / Math.sqrt(na * nb);
  }
}
