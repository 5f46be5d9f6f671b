package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.ByteSink;
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
import org.junit.jupiter.api.Test;

/**
 * A real compressed model (all-MiniLM-L6-v2, int8) with its archive made inconsistent: loading it
 * into DJL fails with one {@link MalformedModelException} whose message is the {@link
 * CaiException}'s, naming the file and the tensor (issue 11).
 */
class HostileModelTest {
  /** Copies {@code from}, each tensor as {@code edit} says (null leaves it out); checksums stay right. */
  static Path rewrite(Path from, String name, BiFunction<TensorInfo, CaiReader.StoredTensor, EncodedTensor> edit)
      throws IOException {
    Path to = TestModels.DIR.resolve(name);
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

  static String firstMatMulWeight(Path cai) throws IOException {
    try (CaiReader r = CaiReader.open(cai)) {
      return r.entries().stream().filter(e -> e.info().role() == TensorRole.MATMUL_WEIGHT).findFirst()
          .orElseThrow().name();
    }
  }

  private static MalformedModelException load(Path cai) {
    return assertThrows(MalformedModelException.class, () -> {
      try (Model m = Model.newInstance("hostile", "CortexSDR")) {
        m.load(cai);
      }
    });
  }

  @Test
  void aGraphWeightMissingFromTheArchiveIsAMalformedModelException() throws IOException {
    Path good = TestModels.minilmCai(Preset.INT8);
    String gone = firstMatMulWeight(good);
    Path bad = rewrite(good, "minilm-missing-weight.cai", (i, s) -> i.name().equals(gone) ? null : same(i, s));
    MalformedModelException e = load(bad);
    assertTrue(e.getCause() instanceof CaiException c && gone.equals(c.tensor()), String.valueOf(e.getCause()));
    assertEquals(e.getCause().getMessage(), e.getMessage());
    assertTrue(e.getMessage().startsWith(bad.toString()) && e.getMessage().contains("does not hold it"),
        e.getMessage());
  }

  @Test
  void aDamagedPayloadIsAMalformedModelExceptionNamingTheTensor() throws IOException {
    Path good = TestModels.minilmCai(Preset.INT8);
    String hit = firstMatMulWeight(good);
    Path bad = rewrite(good, "minilm-bad-scale-type.cai", (i, s) -> {
      if (!i.name().equals(hit)) {
        return same(i, s);
      }
      ByteBuffer p = ByteBuffer.allocate(s.payload().remaining()).put(s.payload().duplicate()).flip();
      p.put(0, (byte) 7); // no such scale type
      return new EncodedTensor(i, s.codec(), p, false, p.remaining(), 0f, 0f);
    });
    MalformedModelException e = load(bad);
    assertTrue(e.getCause() instanceof CaiException c && hit.equals(c.tensor()), String.valueOf(e.getCause()));
    assertTrue(e.getMessage().contains("scale type"), e.getMessage());
  }

  @Test
  void sdrPositionsThatRepeatAreAMalformedModelException() throws IOException {
    Path good = TestModels.minilmCai(Preset.SDR);
    String hit;
    try (CaiReader r = CaiReader.open(good)) {
      hit = r.entries().stream().filter(e -> e.info().role() == TensorRole.MATMUL_WEIGHT
          && e.describe().startsWith("sdr")).findFirst().orElseThrow().name();
    }
    Path bad = rewrite(good, "minilm-sdr-repeat.cai", (i, s) -> {
      if (!i.name().equals(hit)) {
        return same(i, s);
      }
      ByteBuffer p = repeatSecondPosition(s.payload());
      return new EncodedTensor(i, s.codec(), p, false, p.remaining(), 0f, 0f);
    });
    MalformedModelException e = load(bad);
    assertTrue(e.getCause() instanceof CaiException c && hit.equals(c.tensor()), String.valueOf(e.getCause()));
    assertTrue(e.getMessage().contains("ascending"), e.getMessage());
  }

  /** An SDR payload re-coded with delta positions, its second position equal to its first. */
  static ByteBuffer repeatSecondPosition(ByteBuffer payload) {
    ByteBuffer in = payload.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    int coding = in.get() & 0xff;
    long nnz = ByteSink.getVarLong(in);
    int posBytes = (int) ByteSink.getVarLong(in);
    ByteBuffer pos = in.slice().limit(posBytes);
    in.position(in.position() + posBytes);
    java.util.List<Long> positions = new java.util.ArrayList<>();
    if (coding == 1) {
      long q = -1;
      while (pos.hasRemaining()) {
        q += ByteSink.getVarLong(pos) + 1;
        positions.add(q);
      }
    } else {
      assertEquals(2, coding, "bitmap positions");
      for (int at = 0; at < posBytes; at++) {
        for (int bit = 0; bit < 8; bit++) {
          if ((pos.get(at) >> bit & 1) != 0) {
            positions.add(8L * at + bit);
          }
        }
      }
    }
    ByteSink deltas = new ByteSink(4 * positions.size() + 16);
    long prev = -1;
    for (int k = 0; k < positions.size(); k++) {
      if (k == 1) {
        deltas.putVarLong(-1L); // 2^64 - 1: the sum wraps back onto the first position
      } else {
        deltas.putVarLong(positions.get(k) - prev - 1);
        prev = positions.get(k);
      }
    }
    return new ByteSink(payload.remaining() + 16).putU8(1).putVarLong(nnz).putVarLong(deltas.size())
        .put(deltas.toArray()).put(in).toBuffer();
  }
}
