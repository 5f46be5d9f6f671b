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
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** An embedding table whose rarely read rows take fewer bits. */
class TieredQuantCodecTest {
  static final TensorInfo TABLE = new TensorInfo("emb", DType.FLOAT32, new long[] {50, 96}, TensorRole.EMBEDDING, 1);
  static final QuantCodec FREQUENT = QuantCodec.blockwise(4, false, 32);
  static final QuantCodec RARE = QuantCodec.blockwise(2, false, 32);

  static float[] table(long seed) {
    Random rnd = new Random(seed);
    float[] x = new float[50 * 96];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian() * 0.05f;
    }
    return x;
  }

  /** Rows 0, 3, 6... frequent, the rest rare. */
  static byte[] tiers() {
    byte[] t = new byte[50];
    for (int f = 0; f < t.length; f++) {
      t[f] = (byte) (f % 3 == 0 ? 0 : 1);
    }
    return t;
  }

  static float[] rows(float[] x, int from, int count) {
    return Arrays.copyOfRange(x, from * 96, (from + count) * 96);
  }

  @Test
  void eachRowDecodesAsItsTiersCodecDecodesIt() {
    float[] x = table(1);
    TieredQuantCodec c = TieredQuantCodec.of(List.of(FREQUENT, RARE)).assign(tiers());
    ByteBuffer payload = c.encode(TensorData.ofFloats(TABLE, x));
    float[] back = c.decode(TABLE, payload.duplicate()).floats();
    TensorInfo row = new TensorInfo("row", DType.FLOAT32, new long[] {1, 96}, TensorRole.EMBEDDING, 1);
    for (int f = 0; f < 50; f++) {
      QuantCodec q = f % 3 == 0 ? FREQUENT : RARE;
      float[] expected = q.decode(row, q.encode(TensorData.ofFloats(row, rows(x, f, 1)))).floats();
      assertArrayEquals(expected, rows(back, f, 1), "row " + f);
    }
    // the rare tier really is smaller: 2-bit rows instead of 4-bit
    long uniform = FREQUENT.encode(TensorData.ofFloats(TABLE, x)).remaining();
    assertTrue(payload.remaining() < 0.75 * uniform, payload.remaining() + " vs " + uniform);
  }

  @Test
  void paramsRebuildAnEqualCodecThatDecodesTheSame() {
    float[] x = table(2);
    TieredQuantCodec c = TieredQuantCodec.of(List.of(FREQUENT, RARE)).assign(tiers());
    ByteBuffer payload = c.encode(TensorData.ofFloats(TABLE, x));
    TensorCodec back = Codecs.fromStored(CodecId.TIERED, c.params());
    assertEquals(c, back);
    assertEquals("tiered quant int4 asym block32 | quant int2 asym block32", back.describe());
    assertArrayEquals(c.decode(TABLE, payload.duplicate()).floats(), back.decode(TABLE, payload.duplicate()).floats());
  }

  @Test
  void theWidenedViewHoldsTheSameValues() {
    float[] x = table(3);
    TieredQuantCodec c = TieredQuantCodec.of(List.of(FREQUENT, QuantCodec.blockwise(3, true, 96))).assign(tiers());
    ByteBuffer payload = c.encode(TensorData.ofFloats(TABLE, x));
    QuantizedTensor view = c.widened(TABLE, payload.duplicate());
    assertEquals(4, view.codec().bits());
    assertEquals(32, view.groupLength());
    float[] viewed = new float[x.length];
    view.dequantizeInto(viewed);
    assertArrayEquals(c.decode(TABLE, payload.duplicate()).floats(), viewed);
  }

  @Test
  void groupsThatDoNotNestHaveNoWidenedView() {
    TieredQuantCodec c = TieredQuantCodec.of(List.of(FREQUENT, QuantCodec.blockwise(2, false, 48))).assign(tiers());
    ByteBuffer payload = c.encode(TensorData.ofFloats(TABLE, table(4)));
    assertNull(c.widened(TABLE, payload));
  }

  @Test
  void badInputIsRefusedWithItsCause() {
    TieredQuantCodec unassigned = TieredQuantCodec.of(List.of(FREQUENT, RARE));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> unassigned.encode(TensorData.ofFloats(TABLE, table(5))));
    assertTrue(e.getMessage().contains("'emb'"), e.getMessage());
    TensorInfo strided = new TensorInfo("w", DType.FLOAT32, new long[] {96, 50}, TensorRole.MATMUL_WEIGHT, 0);
    e = assertThrows(IllegalArgumentException.class,
        () -> TieredQuantCodec.of(List.of(FREQUENT)).assign(new byte[50]).encode(TensorData.ofFloats(strided, table(5))));
    assertTrue(e.getMessage().contains("reduction axis last"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> unassigned.assign(new byte[] {0, 2}));
    assertThrows(IllegalArgumentException.class, () -> TieredQuantCodec.of(List.of(QuantCodec.perTensor(4, true))));
    // a truncated payload is malformed, never a crash
    ByteBuffer payload = unassigned.assign(tiers()).encode(TensorData.ofFloats(TABLE, table(6)));
    ByteBuffer cut = payload.duplicate().limit(payload.remaining() - 3);
    assertThrows(MalformedPayloadException.class, () -> unassigned.decode(TABLE, cut));
    ByteBuffer longer = ByteBuffer.allocate(payload.remaining() + 1);
    longer.put(payload.duplicate()).rewind(); // one zero byte after the last tier
    assertThrows(MalformedPayloadException.class, () -> unassigned.decode(TABLE, longer));
    assertThrows(MalformedPayloadException.class, () -> Codecs.fromStored(CodecId.TIERED, new byte[] {1, 0}));
    assertThrows(MalformedPayloadException.class, () -> Codecs.fromStored(CodecId.TIERED, new byte[] {9, 1}));
  }
}
