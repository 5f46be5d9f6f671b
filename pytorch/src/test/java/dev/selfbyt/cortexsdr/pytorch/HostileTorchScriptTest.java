package dev.selfbyt.cortexsdr.pytorch;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.torchzip.TorchZipWriter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.tensor.InMemoryTensorSource;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.function.BiFunction;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged TorchScript archives and .cai files: a clear error naming file and tensor, and no output left. */
class HostileTorchScriptTest {
  @TempDir Path tmp;

  /** A copy of the tiny module with each record passed through {@code edit} (null drops it). */
  private Path edited(String name, BiFunction<String, byte[], byte[]> edit) throws Exception {
    Path out = tmp.resolve(name);
    try (ZipFile in = new ZipFile(TinyModels.traced().toFile());
        OutputStream os = Files.newOutputStream(out);
        TorchZipWriter z = new TorchZipWriter(os)) {
      Enumeration<? extends ZipEntry> e = in.entries();
      while (e.hasMoreElements()) {
        ZipEntry entry = e.nextElement();
        byte[] b = edit.apply(entry.getName(), in.getInputStream(entry).readAllBytes());
        if (b != null) {
          z.add(entry.getName(), ByteBuffer.wrap(b));
        }
      }
    }
    return out;
  }

  private static String fail(Path pt) {
    return assertThrows(TorchScriptFormatException.class, () -> TorchScriptReader.open(pt).close()).getMessage();
  }

  @Test
  void truncatedArchive() throws Exception {
    byte[] all = Files.readAllBytes(TinyModels.traced());
    Path cut = tmp.resolve("cut.pt");
    Files.write(cut, Arrays.copyOf(all, all.length / 2));
    String m = fail(cut);
    assertTrue(m.startsWith(cut + ": ") && m.contains("not a readable zip"), m);
    assertFalse(TorchScriptArchive.isTorchScript(cut));
  }

  @Test
  void missingStorage() throws Exception {
    Path pt = edited("missing.pt", (n, b) -> n.endsWith("/data/0") ? null : b);
    String m = fail(pt);
    assertTrue(m.contains("data/0 is missing"), m);
  }

  @Test
  void storageOfTheWrongSize() throws Exception {
    Path pt = edited("short.pt", (n, b) -> n.endsWith("/data/0") ? Arrays.copyOf(b, b.length - 4) : b);
    String m = fail(pt);
    assertTrue(m.contains("tensor '") && m.contains("but data.pkl declares"), m);
  }

  @Test
  void evilPickleInARealArchive() throws Exception {
    byte[] evil = {(byte) 0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', 'X', 4, 0, 0, 0, 't', 'r',
        'u', 'e', (byte) 0x85, 'R', '.'};
    Path pt = edited("evil.pt", (n, b) -> n.endsWith("/data.pkl") ? evil : b);
    String m = fail(pt);
    assertTrue(m.contains("os.system") && m.contains("nothing was run"), m);
  }

  @Test
  void stateDictZipIsNotTorchScript() throws Exception {
    Path pt = edited("statedict.pt", (n, b) -> n.contains("/code/") || n.endsWith("constants.pkl") ? null : b);
    assertFalse(TorchScriptArchive.isTorchScript(pt));
    assertTrue(fail(pt).contains("state dict"), fail(pt));
  }

  @Test
  void caiWhoseTensorDoesNotFitTheSkeleton() throws Exception {
    Path cai = tmp.resolve("tiny.cai");
    try (TorchScriptReader r = TorchScriptReader.open(TinyModels.traced())) {
      // the same module, one weight given a shorter shape: the skeleton's storage is larger
      InMemoryTensorSource.Builder b = InMemoryTensorSource.builder("torchscript").graph(r.graph());
      for (TensorInfo t : r.tensors()) {
        var d = r.read(t);
        if (t.name().equals("fc.weight")) {
          long[] s = t.shape();
          s[0] -= 1;
          TensorInfo cut = new TensorInfo(t.name(), t.dtype(), s, t.role(), t.reductionAxis());
          b.add(cut, Arrays.copyOf(d.floats(), (int) cut.numel()));
        } else {
          b.add(t, d.bytes());
        }
      }
      CortexSdr.compress(b.build(), cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    Path out = tmp.resolve("out.pt");
    String m = assertThrows(TorchScriptFormatException.class, () -> CaiTorch.decompress(cai, out)).getMessage();
    assertTrue(m.contains("tensor 'fc.weight'") && m.contains("shape mismatch"), m);
    try (var files = Files.list(tmp)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("out")), "no output left");
    }
  }
}
