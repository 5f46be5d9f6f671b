package dev.selfbyt.cortexsdr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.torchzip.TorchZipWriter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.tensor.InMemoryTensorSource;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.pytorch.TorchScriptReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cortexsdr compress model.pt} and {@code decompress} on a real TorchScript module (written by
 * pytorch/src/test/python/tiny_torchscript.py with Debian's PyTorch): no PyTorch native library needed.
 */
class CliTorchScriptTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path pt;

  record Run(int code, String out, String err) {}

  static Run cortexsdr(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CortexSdrCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  @BeforeAll
  static void model() throws IOException, InterruptedException {
    List<String> cmd = List.of("/usr/bin/python3", "../pytorch/src/test/python/tiny_torchscript.py", shared.toString());
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + " (needs Debian's python3-torch)");
    pt = shared.resolve("tiny_traced.pt");
  }

  @Test
  void compressAndDecompressATorchScriptModelLosslessly() throws IOException {
    Path cai = dir.resolve("tiny.cai");
    Run c = cortexsdr("compress", pt.toString(), "-o", cai.toString(), "--preset", "lossless");
    assertEquals(0, c.code(), c.err());
    Path back = dir.resolve("tiny.back.pt");
    Run d = cortexsdr("decompress", cai.toString(), "-o", back.toString());
    assertEquals(0, d.code(), d.err());
    try (TorchScriptReader a = TorchScriptReader.open(pt); TorchScriptReader b = TorchScriptReader.open(back)) {
      assertEquals(a.tensors(), b.tensors());
      for (TensorInfo t : a.tensors()) {
        assertEquals(a.read(t).bytes(), b.read(t).bytes(), t.name());
      }
    }
    Run i = cortexsdr("inspect", cai.toString());
    assertEquals(0, i.code(), i.err());
  }

  @Test
  void calibrationFallsBackToPlainRoundingAndSaysSo() {
    Path cai = dir.resolve("tiny8.cai");
    Run c = cortexsdr("compress", pt.toString(), "-o", cai.toString(), "--calibrate", "random");
    assertEquals(0, c.code(), c.err());
    assertTrue(c.err().contains("rounded uncalibrated"), c.err());
    Run fast = cortexsdr("compress", pt.toString(), "-o", cai.toString() + "2", "--preset", "int8-fast");
    assertEquals(2, fast.code(), fast.err());
    assertTrue(fast.err().contains("use --preset int8"), fast.err());
  }

  @Test
  void damagedArchivesFailWithExitOneAndLeaveNothing() throws IOException {
    byte[] all = Files.readAllBytes(pt);
    Path cut = dir.resolve("cut.pt");
    Files.write(cut, Arrays.copyOf(all, all.length * 2 / 3));
    Path out = dir.resolve("out.cai");
    Run r = cortexsdr("compress", cut.toString(), "-o", out.toString());
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().startsWith("cortexsdr: " + cut + ": is not a readable zip"), r.err());
    assertFalse(Files.exists(out));
    Run d = cortexsdr("decompress", cut.toString(), "-o", dir.resolve("x.pt").toString());
    assertEquals(1, d.code(), d.err());
    assertFalse(Files.exists(dir.resolve("x.pt")));

    // a weight storage missing from the archive
    Path missing = dir.resolve("missing.pt");
    try (ZipFile in = new ZipFile(pt.toFile()); OutputStream os = Files.newOutputStream(missing);
        TorchZipWriter z = new TorchZipWriter(os)) {
      for (ZipEntry e : java.util.Collections.list(in.entries())) {
        if (!e.getName().endsWith("/data/1")) {
          z.add(e.getName(), ByteBuffer.wrap(in.getInputStream(e).readAllBytes()));
        }
      }
    }
    Run m = cortexsdr("compress", missing.toString(), "-o", out.toString());
    assertEquals(1, m.code(), m.err());
    assertTrue(m.err().contains("data/1 is missing from the archive"), m.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void aWeightThatDoesNotFitItsModuleFailsDecompressWithExitOne() throws IOException {
    Path cai = dir.resolve("misfit.cai");
    try (TorchScriptReader r = TorchScriptReader.open(pt)) {
      InMemoryTensorSource.Builder b = InMemoryTensorSource.builder("torchscript").graph(r.graph());
      for (TensorInfo t : r.tensors()) {
        if (t.name().equals("head.weight")) { // one row short
          long[] s = t.shape();
          s[0] -= 1;
          TensorInfo cut = new TensorInfo(t.name(), t.dtype(), s, t.role(), t.reductionAxis());
          b.add(cut, Arrays.copyOf(r.read(t).floats(), (int) cut.numel()));
        } else {
          b.add(t, r.read(t).bytes());
        }
      }
      CortexSdr.compress(b.build(), cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    Path out = dir.resolve("misfit.pt");
    Run d = cortexsdr("decompress", cai.toString(), "-o", out.toString());
    assertEquals(1, d.code(), d.err());
    assertTrue(d.err().contains("tensor 'head.weight'") && d.err().contains("shape mismatch"), d.err());
    try (var files = Files.list(dir)) {
      assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("misfit.pt")), "no output left");
    }
  }
}
