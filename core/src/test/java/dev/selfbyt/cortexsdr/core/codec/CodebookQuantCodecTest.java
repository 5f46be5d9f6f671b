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
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Non-uniform levels fitted per tensor, against the uniform grid at the same bits and block. */
class CodebookQuantCodecTest {
  static final TensorInfo TABLE = new TensorInfo("emb", DType.FLOAT32, new long[] {200, 96}, TensorRole.EMBEDDING, 1);
  static final TensorInfo MATMUL = new TensorInfo("w", DType.FLOAT32, new long[] {96, 40}, TensorRole.MATMUL_WEIGHT, 0);

  static float[] gaussian(int n, long seed) {
    Random rnd = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) rnd.nextGaussian() * 0.05f;
    }
    return x;
  }

  static double nmse(TensorCodec c, TensorInfo info, float[] x) {
    return EncodingError.of(TensorData.ofFloats(info, x), c, c.encode(TensorData.ofFloats(info, x))).nmse();
  }

  @Test
  void fittedLevelsBeatTheUniformGridAtTwoAndThreeBits() {
    float[] x = gaussian(200 * 96, 1);
    for (int bits : new int[] {2, 3}) {
      double uniform = nmse(QuantCodec.blockwise(bits, false, 32), TABLE, x);
      double codebook = nmse(CodebookQuantCodec.blockwise(bits, 32), TABLE, x);
      double codebookSuper = nmse(CodebookQuantCodec.blockwise(bits, 32).withSuperScales(), TABLE, x);
      // measured on this data: about 0.70x the uniform error at 2 bits, 0.90x at 3
      double bound = bits == 2 ? 0.8 : 0.95;
      assertTrue(codebook < bound * uniform, bits + " bits: codebook " + codebook + " against uniform " + uniform);
      assertTrue(codebookSuper < bound * uniform, bits + " bits: super " + codebookSuper + " against " + uniform);
    }
  }

  @Test
  void decodesToScaleTimesLevelInNaturalOrder() {
    float[] x = gaussian(96 * 40, 2);
    CodebookQuantCodec c = CodebookQuantCodec.blockwise(3, 32);
    ByteBuffer p = c.encode(TensorData.ofFloats(MATMUL, x));
    assertEquals(c.maxPayloadBytes(MATMUL), p.remaining(), "8 levels + 3 blocks x 40 fibers of fp16 + packed codes");
    float[] back = c.decode(MATMUL, p.duplicate()).floats();
    ByteBuffer b = p.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    float[] levels = new float[8];
    for (int j = 0; j < 8; j++) {
      levels[j] = b.getFloat();
      assertTrue(j == 0 || levels[j] > levels[j - 1], "levels ascend");
    }
    // element (k = 5, n = 7): fiber 7, block 0; its value is that block's scale times some level
    float scale = dev.selfbyt.cortexsdr.core.tensor.Fp16.toFloat(b.getShort(4 * 8 + 2 * (7 * 3)));
    float v = back[5 * 40 + 7];
    boolean onALevel = false;
    for (float l : levels) {
      onALevel |= v == scale * l;
    }
    assertTrue(onALevel, v + " is scale " + scale + " times a level");
    assertTrue(nmse(c, MATMUL, x) < 0.05, "3-bit codebook error");
  }

  @Test
  void paramsRoundTripAndDamageIsRefused() {
    for (CodebookQuantCodec c : List.of(CodebookQuantCodec.blockwise(2, 32), CodebookQuantCodec.blockwise(4, 128)
        .withSuperScales(), CodebookQuantCodec.blockwise(1, 7))) {
      assertEquals(c, Codecs.fromStored(CodecId.CODEBOOK, c.params()));
      assertEquals(CodebookQuantCodec.PARAMS_VERSION_CURRENT, c.params()[0]);
    }
    assertThrows(MalformedPayloadException.class, () -> Codecs.fromStored(CodecId.CODEBOOK, new byte[] {9, 2, 32, 0}));
    assertThrows(MalformedPayloadException.class, () -> Codecs.fromStored(CodecId.CODEBOOK, new byte[] {1, 9, 32, 0}));
    assertThrows(MalformedPayloadException.class, () -> Codecs.fromStored(CodecId.CODEBOOK, new byte[] {1, 2, 32, 4}));
    CodebookQuantCodec c = CodebookQuantCodec.blockwise(2, 32);
    ByteBuffer p = c.encode(TensorData.ofFloats(TABLE, gaussian(200 * 96, 3)));
    assertThrows(MalformedPayloadException.class, () -> c.decode(TABLE, p.duplicate().limit(p.remaining() - 1)));
    ByteBuffer nan = ByteBuffer.allocate(p.remaining()).put(p.duplicate()).flip();
    nan.order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, Float.NaN);
    assertThrows(MalformedPayloadException.class, () -> c.decode(TABLE, nan));
    float[] bad = gaussian(200 * 96, 4);
    bad[17] = Float.POSITIVE_INFINITY;
    assertThrows(NonFiniteValueException.class, () -> c.encode(TensorData.ofFloats(TABLE, bad)));
  }

  @Test
  void aTierOfATieredTableCanBeACodebook() {
    float[] x = gaussian(200 * 96, 5);
    byte[] tierOf = new byte[200];
    for (int f = 0; f < 200; f++) {
      tierOf[f] = (byte) (f % 4 == 0 ? 0 : 1);
    }
    QuantCodec frequent = QuantCodec.blockwise(4, false, 32);
    CodebookQuantCodec rare = CodebookQuantCodec.blockwise(2, 32).withSuperScales();
    TieredQuantCodec t = TieredQuantCodec.of(List.of(frequent, rare)).assign(tierOf);
    assertEquals(TieredQuantCodec.PARAMS_VERSION_CURRENT, t.params()[0], "version 2: tiers carry their codec id");
    assertEquals(1, TieredQuantCodec.of(List.of(frequent, QuantCodec.blockwise(2, false, 32))).params()[0],
        "all-quant tiers keep version 1, which older readers read");
    assertEquals(t, Codecs.fromStored(CodecId.TIERED, t.params()));
    ByteBuffer p = t.encode(TensorData.ofFloats(TABLE, x));
    float[] back = t.decode(TABLE, p.duplicate()).floats();
    assertNull(t.widened(TABLE, p.duplicate()), "no uniform view of codebook rows");
    TensorInfo row = new TensorInfo("row", DType.FLOAT32, new long[] {1, 96}, TensorRole.EMBEDDING, 1);
    float[] first = java.util.Arrays.copyOfRange(x, 0, 96);
    assertArrayEquals(frequent.decode(row, frequent.encode(TensorData.ofFloats(row, first))).floats(),
        java.util.Arrays.copyOfRange(back, 0, 96), "a frequent row decodes as its quant tier does");
    double err = 0;
    double norm = 0;
    for (int i = 96; i < 192; i++) { // row 1, rare
      err += (back[i] - x[i]) * (back[i] - x[i]);
      norm += x[i] * x[i];
    }
    assertTrue(err / norm < 0.2, "a rare row is near its values: " + err / norm);
  }
}
