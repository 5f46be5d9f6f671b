package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.format.EncodedTensor;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.function.BiFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real compressed model (all-MiniLM-L6-v2) with its archive made inconsistent, opened with
 * {@link CaiOrt#open}: every case is one {@link CaiException} naming the file and the
 * tensor, never a raw runtime exception and never a session that computes something else (issue 11).
 */
class CaiOrtHostileTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  @TempDir static Path dir;
  static Path int8;
  static Path sdr;

  @BeforeAll
  static void compressTheModel() throws Exception {
    Path fp32 = dir.resolve("all-minilm-l6-v2.onnx");
    try (java.io.InputStream in = CaiOrtHostileTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      java.nio.file.Files.copy(in, fp32);
    }
    int8 = compress(fp32, Preset.INT8, "int8.cai");
    sdr = compress(fp32, Preset.SDR, "sdr.cai");
  }

  static Path compress(Path onnxFile, Preset preset, String name) throws IOException {
    Path cai = dir.resolve(name);
    try (OnnxModelReader onnx = OnnxModelReader.open(onnxFile)) {
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(preset).threads(2).build());
    }
    return cai;
  }

  /** Copies {@code from}, each tensor as {@code edit} says (null leaves it out); checksums stay right. */
  static Path rewrite(Path from, String name, BiFunction<TensorInfo, CaiReader.StoredTensor, EncodedTensor> edit)
      throws IOException {
    Path to = from.resolveSibling(name);
    try (CaiReader r = CaiReader.open(from);
        CaiWriter w = CaiWriter.create(to, new LinkedHashMap<>(r.manifest()), r.graph(), null)) {
      for (CaiEntry e : r.entries()) {
        EncodedTensor t = edit.apply(e.info(), r.readStored(e.name()));
        if (t != null) {
          w.write(t);
        }
      }
      w.finish();
    }
    return to;
  }

  static EncodedTensor same(TensorInfo info, CaiReader.StoredTensor s) {
    ByteBuffer p = s.payload().duplicate();
    return new EncodedTensor(info, s.codec(), p, false, p.remaining(), 0f, 0f);
  }

  static String first(Path cai, java.util.function.Predicate<CaiEntry> which) throws IOException {
    try (CaiReader r = CaiReader.open(cai)) {
      return r.entries().stream().filter(which).findFirst().orElseThrow().name();
    }
  }

  static CaiException open(Path cai) {
    return assertThrows(CaiException.class, () -> {
      try (CaiOrtSession s = CaiOrt.open(ENV, cai,
          CaiOrtOptions.builder().sdr(SdrMatMulRewriter.withMinSparsity(0.0)).build())) {
        s.session().getInputNames();
      }
    });
  }

  @Test
  void anSdrMatMulWeightStoredWithAConvRoleIsRefused() throws Exception {
    Path good = sdr;
    String w = first(good, e -> e.info().role() == TensorRole.MATMUL_WEIGHT && e.codec() != null
        && e.describe().startsWith("sdr"));
    Path bad = rewrite(good, "hostile-conv-role.cai", (i, s) -> same(i.name().equals(w)
        ? new TensorInfo(i.name(), i.dtype(), i.shape(), TensorRole.CONV_WEIGHT, i.reductionAxis()) : i, s));
    CaiException e = open(bad);
    assertEquals(w, e.tensor(), e.getMessage());
    assertTrue(e.getMessage().contains("CONV_WEIGHT"), e.getMessage());
  }

  @Test
  void aGraphWeightMissingFromTheArchiveIsACaiException() throws Exception {
    Path good = int8;
    String w = first(good, e -> e.info().role() == TensorRole.MATMUL_WEIGHT);
    Path bad = rewrite(good, "hostile-missing.cai", (i, s) -> i.name().equals(w) ? null : same(i, s));
    CaiException e = open(bad);
    assertEquals(w, e.tensor(), e.getMessage());
    assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
  }

  @Test
  void aDamagedQuantPayloadIsACaiExceptionNamingTheTensor() throws Exception {
    Path good = int8;
    String w = first(good, e -> e.info().role() == TensorRole.MATMUL_WEIGHT);
    Path bad = rewrite(good, "hostile-scale-type.cai", (i, s) -> {
      if (!i.name().equals(w)) {
        return same(i, s);
      }
      ByteBuffer p = ByteBuffer.allocate(s.payload().remaining()).put(s.payload().duplicate()).flip();
      p.put(0, (byte) 7); // no such scale type
      return new EncodedTensor(i, s.codec(), p, false, p.remaining(), 0f, 0f);
    });
    CaiException e = open(bad);
    assertEquals(w, e.tensor(), e.getMessage());
    assertTrue(e.getMessage().contains("scale type"), e.getMessage());
  }

  @Test
  void sdrPositionsThatRepeatAreACaiException() throws Exception {
    Path good = sdr;
    String w = first(good, e -> e.info().role() == TensorRole.MATMUL_WEIGHT && e.describe().startsWith("sdr"));
    Path bad = rewrite(good, "hostile-sdr-repeat.cai", (i, s) -> {
      if (!i.name().equals(w)) {
        return same(i, s);
      }
      // the payload re-coded with its second position equal to its first (delta 2^64-1)
      ByteBuffer in = s.payload().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      int coding = in.get() & 0xff;
      long nnz = dev.selfbyt.cortexsdr.core.codec.ByteSink.getVarLong(in);
      int posBytes = (int) dev.selfbyt.cortexsdr.core.codec.ByteSink.getVarLong(in);
      ByteBuffer pos = in.slice().limit(posBytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      in.position(in.position() + posBytes);
      java.util.List<Long> positions = new java.util.ArrayList<>();
      if (coding == 1) {
        long q = -1;
        while (pos.hasRemaining()) {
          q += dev.selfbyt.cortexsdr.core.codec.ByteSink.getVarLong(pos) + 1;
          positions.add(q);
        }
      } else {
        assertEquals(2, coding, "bitmap positions");
        for (int byteAt = 0; byteAt < posBytes; byteAt++) {
          for (int bit = 0; bit < 8; bit++) {
            if ((pos.get(byteAt) >> bit & 1) != 0) {
              positions.add(8L * byteAt + bit);
            }
          }
        }
      }
      var out = new dev.selfbyt.cortexsdr.core.codec.ByteSink(s.payload().remaining() + 16);
      var deltas = new dev.selfbyt.cortexsdr.core.codec.ByteSink(4 * positions.size() + 16);
      long prev = -1;
      for (int k = 0; k < positions.size(); k++) {
        deltas.putVarLong(k == 1 ? -1L : positions.get(k) - prev - 1); // the second repeats the first
        prev = k == 1 ? prev : positions.get(k);
      }
      out.putU8(1).putVarLong(nnz).putVarLong(deltas.size()).put(deltas.toArray()).put(in);
      ByteBuffer p = out.toBuffer();
      return new EncodedTensor(i, s.codec(), p, false, p.remaining(), 0f, 0f);
    });
    CaiException e = open(bad);
    assertEquals(w, e.tensor(), e.getMessage());
    assertTrue(e.getMessage().contains("ascending"), e.getMessage());
  }
}
