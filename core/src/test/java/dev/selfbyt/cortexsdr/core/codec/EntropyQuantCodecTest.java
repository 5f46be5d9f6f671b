package dev.selfbyt.cortexsdr.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Steps per fiber with Huffman-coded codes, against block-wise uniform codes of the same error. */
class EntropyQuantCodecTest {
  static final TensorInfo TABLE = CodebookQuantCodecTest.TABLE;
  static final TensorInfo MATMUL = CodebookQuantCodecTest.MATMUL;

  @Test
  void matchesThreeBitBlocksErrorInFewerBytes() {
    float[] x = CodebookQuantCodecTest.gaussian(200 * 96, 1);
    x[5] = 0.4f; // an outlier costs its block's range, and here only a long code
    EntropyQuantCodec e = EntropyQuantCodec.of(0.58);
    QuantCodec q = QuantCodec.blockwise(3, false, 32);
    double entropyError = CodebookQuantCodecTest.nmse(e, TABLE, x);
    double blockError = CodebookQuantCodecTest.nmse(q, TABLE, x);
    int entropyBytes = e.encode(TensorData.ofFloats(TABLE, x)).remaining();
    int blockBytes = q.encode(TensorData.ofFloats(TABLE, x)).remaining();
    assertTrue(entropyError < 1.1 * blockError, entropyError + " against " + blockError);
    // about 2.9 bits per value plus 16 per row, against 3 bits plus 3 bytes and 3 bits per block of 32
    assertTrue(entropyBytes < 0.95 * blockBytes, entropyBytes + " bytes against " + blockBytes);
    assertEquals(0.58 * 0.58 / 12, entropyError, 0.004, "uniform rounding: step^2 / 12 of the mean square");
  }

  @Test
  void decodesToStepTimesCodeWithinHalfAStep() {
    float[] x = CodebookQuantCodecTest.gaussian(96 * 40, 2);
    EntropyQuantCodec c = EntropyQuantCodec.of(0.1); // fine steps: rare codes longer than the lookup table
    ByteBuffer p = c.encode(TensorData.ofFloats(MATMUL, x));
    assertTrue(p.remaining() <= c.maxPayloadBytes(MATMUL));
    ByteBuffer symbols = p.duplicate().position(40 * 2);
    int longest = 0;
    for (int i = 0, n = symbols.get() & 0xff; i < n; i++) {
      symbols.get();
      longest = Math.max(longest, symbols.get() & 0xff);
    }
    assertTrue(longest > EntropyQuantCodec.LOOKUP_BITS, "longest code " + longest);
    float[] back = c.decode(MATMUL, p.duplicate()).floats();
    ByteBuffer b = p.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int n = 0; n < 40; n++) { // fibers of a [K, N] weight run down its columns
      float step = dev.selfbyt.cortexsdr.core.tensor.Fp16.toFloat(b.getShort());
      for (int k = 0; k < 96; k++) {
        float v = back[k * 40 + n];
        assertEquals(Math.round(v / step) * step, v, 0f, "a whole number of steps");
        assertTrue(Math.abs(v - x[k * 40 + n]) <= step / 2 * 1.0001f, "within half a step");
      }
    }
  }

  @Test
  void widenedViewHoldsTheDecodedValuesAsInt8Rows() {
    float[] x = CodebookQuantCodecTest.gaussian(200 * 96, 3);
    EntropyQuantCodec c = EntropyQuantCodec.of(0.3);
    ByteBuffer p = c.encode(TensorData.ofFloats(TABLE, x));
    QuantCodec.QuantizedTensor view = c.widened(TABLE, p.duplicate());
    assertEquals(QuantCodec.perChannel(8, true), view.codec());
    float[] viaView = new float[x.length];
    view.dequantizeInto(viaView);
    assertArrayEquals(c.decode(TABLE, p.duplicate()).floats(), viaView, 0f);
    assertNull(c.widened(MATMUL, c.encode(TensorData.ofFloats(MATMUL, new float[96 * 40]))),
        "fibers with a stride have no row view");
  }

  @Test
  void aZeroTensorAndOneSymbolRoundTrip() {
    EntropyQuantCodec c = EntropyQuantCodec.of(0.58);
    ByteBuffer p = c.encode(TensorData.ofFloats(TABLE, new float[200 * 96]));
    assertEquals(200 * 2 + 1 + 2 + 200 * 96 / 8, p.remaining(), "steps, one symbol at length 1, one bit per value");
    assertArrayEquals(new float[200 * 96], c.decode(TABLE, p).floats(), 0f);
  }

  @Test
  void paramsRoundTripAndDamagedPayloadsAreRefused() {
    EntropyQuantCodec c = EntropyQuantCodec.of(0.58);
    assertEquals(c, Codecs.fromStored(CodecId.ENTROPY, c.params()));
    assertThrows(IllegalArgumentException.class, () -> EntropyQuantCodec.of(0));
    byte[] bad = c.params();
    bad[0] = 9;
    assertThrows(UnknownParamsVersionException.class, () -> Codecs.fromStored(CodecId.ENTROPY, bad));
    float[] x = CodebookQuantCodecTest.gaussian(200 * 96, 4);
    ByteBuffer p = c.encode(TensorData.ofFloats(TABLE, x));
    ByteBuffer shortened = p.duplicate().limit(p.remaining() - 1);
    assertThrows(MalformedPayloadException.class, () -> c.decode(TABLE, shortened));
    byte[] longer = new byte[p.remaining() + 1];
    p.duplicate().get(longer, 0, p.remaining());
    assertThrows(MalformedPayloadException.class, () -> c.decode(TABLE, ByteBuffer.wrap(longer)));
    byte[] lengths = new byte[p.remaining()];
    p.duplicate().get(lengths);
    lengths[200 * 2 + 2] = 30; // the first symbol's Huffman length, beyond 24
    assertThrows(MalformedPayloadException.class, () -> c.decode(TABLE, ByteBuffer.wrap(lengths)));
  }

  @Test
  void lengthsStayWithinTheLimitForSkewedCounts() {
    long[] counts = new long[256];
    for (int v = 0; v < 60; v++) {
      counts[v] = 1L << Math.min(40, v); // a geometric tail: plain Huffman would give lengths near 60
    }
    int[] length = EntropyQuantCodec.lengths(counts);
    double kraft = 0;
    for (int v = 0; v < 256; v++) {
      assertTrue(length[v] <= EntropyQuantCodec.MAX_LENGTH, "length " + length[v]);
      kraft += length[v] == 0 ? 0 : Math.scalb(1.0, -length[v]);
    }
    assertEquals(1.0, kraft, 0.0, "a complete prefix code");
  }

  @Test
  void refusesNonFiniteValues() {
    float[] x = new float[200 * 96];
    x[7] = Float.NaN;
    TensorData d = TensorData.ofFloats(TABLE, x);
    assertThrows(NonFiniteValueException.class, () -> EntropyQuantCodec.of(0.58).encode(d));
    TensorInfo ints = new TensorInfo("ids", DType.INT32, new long[] {4}, TensorRole.OTHER, 0);
    assertTrue(!EntropyQuantCodec.of(0.58).accepts(ints));
  }
}
