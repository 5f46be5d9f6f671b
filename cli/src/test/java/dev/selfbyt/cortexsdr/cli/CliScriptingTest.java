package dev.selfbyt.cortexsdr.cli;

import static dev.selfbyt.cortexsdr.cli.CortexSdrCommandTest.cortexsdr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.cli.CortexSdrCommandTest.Run;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command as a script sees it (issue 12): JSON errors on stdout, {@code --version} everywhere,
 * inputs judged by content, the inspect summary, progress lines without a terminal, the reasons of
 * export-onnx, and output files with the mode the umask gives. Real MiniLM, real files.
 */
class CliScriptingTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path miniLm;
  static Path int4;

  @BeforeAll
  static void model() throws IOException {
    miniLm = shared.resolve("all-minilm-l6-v2.onnx");
    try (InputStream in = CliScriptingTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      Files.copy(in, miniLm, StandardCopyOption.REPLACE_EXISTING);
    }
    int4 = shared.resolve("minilm-int4.cai");
    Run c = cortexsdr("compress", miniLm.toString(), "-o", int4.toString(), "--preset", "int4");
    assertEquals(0, c.code(), c.err());
  }

  private static Map<?, ?> json(Run r) {
    assertEquals(1, r.out().strip().lines().count(), "one JSON object on stdout: " + r.out());
    return (Map<?, ?>) Json.parse(r.out().strip());
  }

  @Test
  void withJsonAFailurePrintsAnErrorObjectOnStdoutAndTheLineOnStderr() throws IOException {
    Path text = dir.resolve("notes.cai");
    Files.writeString(text, "these are my notes about the model\n");
    Path missing = dir.resolve("missing.onnx");
    Path out = dir.resolve("out.cai");
    List<String[]> failures = List.of(
        new String[] {"inspect", text.toString(), "--json"},
        new String[] {"verify", text.toString(), "--json"},
        new String[] {"compress", missing.toString(), "-o", out.toString(), "--json"},
        new String[] {"export-onnx", text.toString(), "-o", dir.resolve("x.onnx").toString(), "--json"});
    for (String[] args : failures) {
      Run r = cortexsdr(args);
      assertEquals(1, r.code(), String.join(" ", args) + ": " + r.err());
      assertEquals(1, r.err().lines().count(), r.err());
      Map<?, ?> e = json(r);
      assertEquals(false, e.get("ok"));
      assertEquals("cortexsdr: " + e.get("error"), r.err().strip(), "the same message as on stderr");
      assertEquals(args[1], e.get("file"));
      assertTrue(e.containsKey("tensor"), "tensor is always there (null here): " + e);
      assertNull(e.get("tensor"));
    }
    assertFalse(Files.exists(out));

    // bad usage: exit code 2 as before, and JSON too
    Run usage = cortexsdr("compress", miniLm.toString(), "-o", out.toString(), "--bits", "12", "--json");
    assertEquals(2, usage.code(), usage.err());
    Map<?, ?> u = json(usage);
    assertEquals("usage", u.get("kind"));
    assertTrue(u.get("error").toString().contains("bits"), u.toString());
    assertTrue(usage.err().contains("bits"), usage.err());

    // without --json nothing goes to stdout
    Run plain = cortexsdr("inspect", text.toString());
    assertEquals(1, plain.code());
    assertEquals("", plain.out());
  }

  /** The version comes from the pom, the one place it is written, and every command prints it. */
  @Test
  void versionWorksOnEveryCommandAndIsThePomsVersion() throws IOException {
    String pom = Files.readString(Path.of("../pom.xml"));
    Matcher m = Pattern.compile("<artifactId>cortexsdr-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertTrue(m.find());
    assertEquals(m.group(1), CortexSdr.VERSION);
    for (String[] args : List.of(new String[] {"--version"}, new String[] {"-V"},
        new String[] {"compress", "--version"}, new String[] {"inspect", "--version"},
        new String[] {"verify", "--version"}, new String[] {"export-onnx", "--version"},
        new String[] {"decompress", "--version"}, new String[] {"inspect", int4.toString(), "--version"})) {
      Run r = cortexsdr(args);
      assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
      assertTrue(r.out().startsWith("cortexsdr " + CortexSdr.VERSION + " (.cai format 1."), r.out());
    }
  }

  /** What a file is, is read from its bytes: names can lie. */
  @Test
  void theInputKindIsJudgedByContentNotByName() throws IOException {
    Path onnxNamedBin = dir.resolve("weights.bin");
    Files.copy(miniLm, onnxNamedBin);
    Run ok = cortexsdr("compress", onnxNamedBin.toString(), "-o", dir.resolve("a.cai").toString(), "--json");
    assertEquals(0, ok.code(), ok.err());

    Path caiNamedOnnx = dir.resolve("model.onnx");
    Files.copy(int4, caiNamedOnnx);
    Path text = dir.resolve("readme.onnx");
    Files.writeString(text, "# MiniLM\nDownload the model from the hub, then run it.\n");
    Path zip = dir.resolve("model-folder.onnx");
    try (OutputStream o = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(o)) {
      z.putNextEntry(new ZipEntry("archive/data.pkl"));
      z.write(new byte[] {(byte) 0x80, 2, '}', 'q', 0, '.'});
      z.closeEntry();
    }
    Path safetensors = dir.resolve("model.pt");
    byte[] header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
    byte[] st = new byte[8 + header.length + 8];
    st[0] = (byte) header.length;
    System.arraycopy(header, 0, st, 8, header.length);
    Files.write(safetensors, st);
    Path onnxNamedPt = dir.resolve("really-onnx.pt");
    Files.copy(miniLm, onnxNamedPt);

    Map<Path, String> refused = Map.of(
        caiNamedOnnx, "is already a .cai archive",
        text, "this is a text file, not an ONNX model",
        zip, "torch.save stores records uncompressed");
    for (Map.Entry<Path, String> c : refused.entrySet()) {
      Path out = dir.resolve("out.cai");
      Run r = cortexsdr("compress", c.getKey().toString(), "-o", out.toString());
      assertEquals(1, r.code(), c.getKey() + ": " + r.err());
      assertEquals("cortexsdr: " + c.getKey() + ": ", r.err().substring(0, c.getKey().toString().length() + 13));
      assertTrue(r.err().contains(c.getValue()), r.err());
      assertFalse(Files.exists(out));
    }
    assertEquals(0, cortexsdr("compress", onnxNamedPt.toString(), "-o", dir.resolve("b.cai").toString()).code(),
        "a .pt name does not stop an ONNX model");
    assertEquals(0, cortexsdr("compress", safetensors.toString(), "-o", dir.resolve("c.cai").toString()).code(),
        "a .pt name does not stop a safetensors file");
  }

  @Test
  void aBadMagicSaysWhatTheFileIs() throws IOException {
    Path text = dir.resolve("model.cai");
    Files.writeString(text, "name,shape\nfc.weight,64x32\nfc.bias,64\n".repeat(3));
    Run r = cortexsdr("verify", text.toString());
    assertEquals(1, r.code());
    assertEquals("cortexsdr: " + text + ": not a .cai file: this is a text file", r.err().strip());
    Run onnx = cortexsdr("inspect", miniLm.toString());
    assertEquals(1, onnx.code());
    assertTrue(onnx.err().contains("not a .cai file: this is an ONNX model (protobuf); compress it first"), onnx.err());
  }

  /** The summary adds up to the whole file; the tensor table only when asked for. */
  @Test
  void inspectShowsASummaryFirstAndListsTensorsOnlyWhenAsked() {
    Run r = cortexsdr("inspect", int4.toString());
    assertEquals(0, r.code(), r.err());
    List<String> lines = r.out().lines().toList();
    int head = lines.indexOf(lines.stream().filter(l -> l.startsWith("codec and width")).findFirst().orElseThrow());
    Pattern row = Pattern.compile("(\\S+ \\S+)\\s+(\\d+)\\s+([\\d,]+)\\s+([\\d,]+)\\s+([\\d.]+)%");
    int tensors = 0;
    double share = 0;
    List<String> groups = new ArrayList<>();
    for (String l : lines.subList(head + 1, lines.size())) {
      Matcher m = row.matcher(l);
      if (!m.matches()) {
        break;
      }
      groups.add(m.group(1));
      tensors += Integer.parseInt(m.group(2));
      share += Double.parseDouble(m.group(5));
    }
    assertEquals("quant int4", groups.get(0), "the int4 weights hold most bytes: " + r.out());
    assertTrue(groups.contains("raw float32"), groups.toString());
    assertEquals(248, tensors, r.out());
    assertEquals(100.0, share, 0.3);
    assertFalse(r.out().contains("bits/w"), "no per-tensor table by default");
    assertTrue(r.out().contains("248 tensors: --tensor REGEX"), r.out());

    Run some = cortexsdr("inspect", int4.toString(), "--tensor", "^encoder\\.layer\\.5\\..*LayerNorm");
    assertEquals(0, some.code(), some.err());
    List<String> rows = some.out().lines().filter(l -> l.startsWith("encoder.") || l.startsWith("embeddings.")).toList();
    assertEquals(4, rows.size(), some.out()); // attention.output.LayerNorm and output.LayerNorm, weight and bias
    assertTrue(rows.stream().allMatch(l -> l.startsWith("encoder.layer.5.")), rows.toString());
    assertTrue(some.out().contains("bits/w"));

    Run all = cortexsdr("inspect", int4.toString(), "--all");
    assertEquals(248, all.out().lines().dropWhile(l -> !l.startsWith("name ")).skip(1).count(), all.out());

    Map<?, ?> json = json(cortexsdr("inspect", int4.toString(), "--json", "--tensor", "word_embeddings"));
    List<?> summary = (List<?>) json.get("summary");
    assertEquals("quant int4", ((Map<?, ?>) summary.get(0)).get("codec"));
    assertEquals(1, ((List<?>) json.get("tensors")).size());
    assertEquals(248, ((List<?>) json(cortexsdr("inspect", int4.toString(), "--json")).get("tensors")).size(),
        "JSON lists every tensor unless --tensor filters");
    assertEquals(2, cortexsdr("inspect", int4.toString(), "--tensor", "(unclosed").code());
  }

  /**
   * Without a terminal, progress comes as lines naming the stage, at most one per interval, and a
   * closing line per stage that printed; stdout keeps only the result. (The interval is 2 s; it is
   * shortened here so that a compression of MiniLM, a few seconds long, shows several.)
   */
  @Test
  void progressComesAsLinesAtMostOnePerIntervalWhenStderrIsNoTerminal() {
    long before = ProgressBar.lineIntervalNanos;
    ProgressBar.lineIntervalNanos = 200_000_000L;
    Run r;
    try {
      // (--no-check: the output check is a stage of its own, with its own lines and warning)
      r = cortexsdr("compress", miniLm.toString(), "-o", dir.resolve("sdr.cai").toString(), "--preset", "sdr",
          "--threads", "1", "--json", "--no-check");
    } finally {
      ProgressBar.lineIntervalNanos = before;
    }
    assertEquals(0, r.code(), r.err());
    json(r); // stdout: the result alone
    Pattern line = Pattern.compile("compressing: ([\\d.]+) s(, \\d+% \\([\\d,]+ of [\\d,]+ bytes\\))?(, .*)?");
    List<Double> times = new ArrayList<>();
    List<String> lines = r.err().lines().toList();
    for (String l : lines.subList(0, lines.size() - 1)) {
      Matcher m = line.matcher(l);
      assertTrue(m.matches(), l);
      times.add(Double.parseDouble(m.group(1)));
    }
    assertTrue(times.size() >= 2, r.err());
    assertTrue(times.get(0) >= 0.2, "nothing before the first interval: " + times);
    for (int i = 1; i < times.size(); i++) {
      assertTrue(times.get(i) - times.get(i - 1) >= 0.19, "at most one line per interval: " + times);
    }
    assertTrue(lines.get(lines.size() - 1).matches("compressing: done in [\\d.]+ s"), r.err());

    // at the default 2 s, a command that takes less prints no progress at all
    Run quick = cortexsdr("verify", int4.toString());
    assertEquals(0, quick.code());
    assertEquals("", quick.err());
  }

  @Test
  void exportOnnxStatesWhyEachDecodedWeightWasDecoded() {
    Path sdr = dir.resolve("sdr.cai");
    assertEquals(0, cortexsdr("compress", miniLm.toString(), "-o", sdr.toString(), "--preset", "sdr").code());
    Run r = cortexsdr("export-onnx", sdr.toString(), "-o", dir.resolve("sdr.onnx").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("248 x decoded (plain initializers), because:"), r.out());
    assertTrue(r.out().contains("210 x stored losslessly"), r.out());
    assertTrue(r.out().contains("38 x codec has no ONNX operator: embeddings.word_embeddings.weight"), r.out());

    Map<?, ?> j = json(cortexsdr("export-onnx", int4.toString(), "-o", dir.resolve("q.onnx").toString(), "--json"));
    Map<?, ?> forms = (Map<?, ?>) j.get("forms");
    Map<?, ?> reasons = (Map<?, ?>) j.get("decodedReasons");
    long sum = reasons.values().stream().mapToLong(v -> ((Number) v).longValue()).sum();
    assertEquals(((Number) forms.get("decoded")).longValue(), sum, "every decoded weight has its reason: " + j);
  }

  /** Outputs are readable by whoever the umask lets read (0644 by default), not 0600. */
  @Test
  void outputFilesHaveTheModeTheUmaskGives() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sh", "-c", "umask").redirectErrorStream(true).start();
    String umask = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
    assertEquals(0, p.waitFor());
    Set<PosixFilePermission> expected = Files.getPosixFilePermissions(Files.createFile(dir.resolve("reference")));
    Path cai = dir.resolve("m.cai");
    Path q = dir.resolve("m.q.onnx");
    Path back = dir.resolve("m.onnx");
    assertEquals(0, cortexsdr("compress", miniLm.toString(), "-o", cai.toString()).code());
    assertEquals(0, cortexsdr("export-onnx", cai.toString(), "-o", q.toString()).code());
    assertEquals(0, cortexsdr("decompress", cai.toString(), "-o", back.toString()).code());
    for (Path out : List.of(cai, q, back)) {
      assertEquals(expected, Files.getPosixFilePermissions(out), out + " under umask " + umask);
    }
    if (umask.equals("0022") || umask.equals("022")) {
      assertEquals(java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"),
          Files.getPosixFilePermissions(cai));
    }
  }
}
