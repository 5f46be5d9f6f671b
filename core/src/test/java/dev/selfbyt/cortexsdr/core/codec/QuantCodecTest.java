package dev.selfbyt.cortexsdr.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.TestTensors;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class QuantCodecTest {

  static Stream<Arguments> codecs() {
    List<Arguments> out = new ArrayList<>();
    for (int bits = 2; bits <= 8; bits++) {
      for (boolean sym : new boolean[] {true, false}) {
        out.add(Arguments.of(QuantCodec.perTensor(bits, sym)));
        out.add(Arguments.of(QuantCodec.perChannel(bits, sym)));
        for (int block : new int[] {32, 64, 128, 7}) {
          out.add(Arguments.of(QuantCodec.blockwise(bits, sym, block)));
        }
      }
    }
    return out.stream();
  }

  /** Every value is within half a step (its group's scale / 2) of the original. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("codecs")
  void errorStaysWithinHalfAStep(QuantCodec codec) {
    // reduction axis 0 of a [K, N] matmul weight (strided fibers), and the last axis, odd sizes
    for (TensorInfo info : List.of(
        new TensorInfo("w", DType.FLOAT32, new long[] {200, 37}, TensorRole.MATMUL_WEIGHT, 0),
        new TensorInfo("e", DType.FLOAT32, new long[] {13, 3, 150}, TensorRole.EMBEDDING, 2),
        new TensorInfo("c", DType.FLOAT32, new long[] {8, 20, 3, 3}, TensorRole.CONV_WEIGHT, 1))) {
      float[] x = TestTensors.gaussian((int) info.numel(), 7, 0.1f);
      TensorData data = TensorData.ofFloats(info, x);
      ByteBuffer payload = codec.encode(data);
      QuantCodec stored = (QuantCodec) Codecs.fromStored(CodecId.QUANT, codec.params());
      float[] y = stored.decode(info, payload.duplicate()).floats();
      QuantizedTensor q = stored.unpack(info, payload.duplicate());
      float[] scales = q.scales();
      int r = (int) info.fiberLength();
      int inner = (int) info.inner();
      for (int i = 0; i < x.length; i++) {
        // element i in natural order -> (fiber, position along the fiber)
        int o = i / (r * inner);
        int k = (i / inner) % r;
        int c = i % inner;
        int fiber = o * inner + c;
        float s = scales[q.group(fiber, k)];
        float bound = s / 2 * (1 + 1e-5f) + 1e-12f;
        if (!(Math.abs(x[i] - y[i]) <= bound)) {
          throw new AssertionError(codec.describe() + " " + info + ": element " + i + " |" + x[i] + " - "
              + y[i] + "| > " + bound);
        }
      }
    }
  }

  /** A [K, N] weight quantized along K stores the same bytes as its transpose along its last axis. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("codecs")
  void stridedFibersGiveTheSameBytesAsContiguousOnes(QuantCodec codec) {
    int k = 150;
    int n = 70;
    float[] x = TestTensors.gaussian(k * n, 17, 0.1f);
    float[] t = new float[k * n];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < n; j++) {
        t[j * k + i] = x[i * n + j];
      }
    }
    TensorInfo strided = new TensorInfo("w", DType.FLOAT32, new long[] {k, n}, TensorRole.MATMUL_WEIGHT, 0);
    TensorInfo contiguous = new TensorInfo("w", DType.FLOAT32, new long[] {n, k}, TensorRole.MATMUL_WEIGHT, 1);
    ByteBuffer a = codec.encode(TensorData.ofFloats(strided, x));
    ByteBuffer b = codec.encode(TensorData.ofFloats(contiguous, t));
    assertEquals(b, a);
    float[] back = codec.decode(strided, a).floats();
    float[] backT = codec.decode(contiguous, b).floats();
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < n; j++) {
        assertEquals(backT[j * k + i], back[i * n + j]);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = DType.class, names = {"FLOAT16", "BFLOAT16", "FLOAT64"})
  void quantizesOtherFloatingTypesAndDecodesToTheSameType(DType dtype) {
    TensorInfo info = new TensorInfo("h", dtype, new long[] {64, 64}, TensorRole.MATMUL_WEIGHT, 0);
    TensorData data = TestTensors.random(info, 3);
    QuantCodec c = QuantCodec.blockwise(8, true, 32);
    TensorData back = c.decode(info, c.encode(data));
    assertEquals(dtype, back.info().dtype());
    assertEquals(info.byteSize(), back.bytes().remaining());
    float[] x = data.floats();
    float[] y = back.floats();
    for (int i = 0; i < x.length; i++) {
      assertEquals(x[i], y[i], 0.01f);
    }
  }

  /** GGUF's Q4_0 / Q8_0 cost: 4.5 and 8.5 bits per weight at block 32 with fp16 scales. */
  @Test
  void storageCostMatchesTheGgufFormats() {
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {256, 1024}, TensorRole.MATMUL_WEIGHT, 0);
    TensorData data = TensorData.ofFloats(info, TestTensors.gaussian(256 * 1024, 1, 0.02f));
    assertEquals(4.5, bitsPerWeight(QuantCodec.blockwise(4, true, 32), data), 0.001);
    assertEquals(8.5, bitsPerWeight(QuantCodec.blockwise(8, true, 32), data), 0.001);
    assertEquals(4.625, bitsPerWeight(QuantCodec.blockwise(4, false, 32), data), 0.001);
    assertEquals(8.75, bitsPerWeight(QuantCodec.blockwise(8, false, 32), data), 0.001);
    assertEquals(4.156, bitsPerWeight(QuantCodec.blockwise(4, false, 128), data), 0.001);
    assertTrue(bitsPerWeight(QuantCodec.perChannel(8, true), data) < 8.1);
    // the zstd stage takes 8-bit codes of Gaussian weights below 8 bits
    ByteBuffer p = QuantCodec.perChannel(8, true).encode(data);
    ByteBuffer z = new ZstdStage(3).compress(p);
    assertTrue(z != null && z.remaining() * 8.0 / info.numel() < 7.5, "zstd on int8 codes");
  }

  private static double bitsPerWeight(QuantCodec c, TensorData d) {
    return c.encode(d).remaining() * 8.0 / d.info().numel();
  }

  @Test
  void zeroIsExactAndConstantBlocksDecodeExactly() {
    TensorInfo info = TensorInfo.of("z", DType.FLOAT32, 4, 64);
    float[] x = new float[256];
    for (int i = 64; i < 128; i++) {
      x[i] = 0.25f; // a constant block
    }
    x[200] = -3f;
    for (QuantCodec c : List.of(QuantCodec.blockwise(4, false, 32), QuantCodec.blockwise(4, true, 32))) {
      float[] y = c.decode(info, c.encode(TensorData.ofFloats(info, x))).floats();
      for (int i = 0; i < 64; i++) {
        assertEquals(0f, y[i], c.describe());
      }
      assertEquals(0.25f, y[70], 0.25f * 1e-3f, c.describe());
      assertEquals(-3f, y[200], 3e-3f, c.describe());
    }
  }

  /**
   * Measuring while encoding gives the payload of {@code encode} and, to the bit, the error that
   * decoding it and comparing gives: the figures the directory stores do not depend on the path.
   * Strided and contiguous fibers, odd sizes, fp32-scale fallback, a reference apart from the
   * values (as calibration gives), fp16 input.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("codecs")
  void measuringWhileEncodingGivesTheErrorOfDecodingToTheBit(QuantCodec codec) {
    List<TensorInfo> infos = List.of(
        new TensorInfo("w", DType.FLOAT32, new long[] {200, 37}, TensorRole.MATMUL_WEIGHT, 0),
        new TensorInfo("e", DType.FLOAT32, new long[] {13, 3, 150}, TensorRole.EMBEDDING, 2),
        new TensorInfo("c", DType.FLOAT32, new long[] {8, 20, 3, 3}, TensorRole.CONV_WEIGHT, 1),
        new TensorInfo("h", DType.FLOAT16, new long[] {3, 70, 65}, TensorRole.MATMUL_WEIGHT, 1));
    for (TensorInfo info : infos) {
      int n = (int) info.numel();
      // 1e7: scales past fp16's range, stored as fp32 (fp16 values cannot go there)
      for (float std : info.dtype() == DType.FLOAT32 ? new float[] {0.05f, 1e7f} : new float[] {0.05f}) {
        float[] x = TestTensors.gaussian(n, 11, std);
        float[] moved = TestTensors.gaussian(n, 12, std);
        for (int i = 0; i < n; i++) {
          moved[i] = x[i] + moved[i] * 1e-3f;
        }
        TensorData plain = TensorData.ofFloats(info, x);
        if (info.dtype() != DType.FLOAT32) {
          plain = TensorData.ofBytes(info, plain.bytes()); // what a reader gives: fp16 bytes
        }
        for (TensorData data : List.of(plain, plain.withReference(moved))) {
          ByteBuffer expected = codec.encode(data);
          EncodingError decoded = EncodingError.of(data, codec, expected);
          MeasuredPayload m = codec.encodeMeasured(data);
          String what = codec.describe() + " " + info + " std " + std;
          assertEquals(expected, m.payload(), what);
          assertEquals(Float.floatToRawIntBits(decoded.nmse()), Float.floatToRawIntBits(m.nmse()), what);
          assertEquals(Float.floatToRawIntBits(decoded.maxAbsError()), Float.floatToRawIntBits(m.maxAbsError()), what);
          assertTrue(m.nmse() > 0, what);
        }
      }
    }
  }

  @Test
  void scalesThatDoNotFitFp16FallBackToFp32() {
    TensorInfo info = TensorInfo.of("big", DType.FLOAT32, 2, 64);
    float[] x = TestTensors.gaussian(128, 9, 1e7f); // scales far above 65504
    QuantCodec c = QuantCodec.blockwise(8, true, 32);
    ByteBuffer p = c.encode(TensorData.ofFloats(info, x));
    assertEquals(QuantCodec.SCALE_FP32, p.get(0));
    float[] y = c.decode(info, p).floats();
    for (int i = 0; i < x.length; i++) {
      assertEquals(x[i], y[i], Math.abs(x[i]) * 0.01f + 1e6f);
    }
    float[] tiny = TestTensors.gaussian(128, 9, 1e-9f); // fp16 would distort these scales
    assertEquals(QuantCodec.SCALE_FP32, c.encode(TensorData.ofFloats(info, tiny)).get(0));
  }

  @Test
  void nonFiniteValuesGetAnErrorNamingTheTensor() {
    TensorInfo info = TensorInfo.of("layer3.weight", DType.FLOAT32, 2, 64);
    float[] x = new float[128];
    x[77] = Float.NaN;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantCodec.blockwise(4, false, 32).encode(TensorData.ofFloats(info, x)));
    assertTrue(e.getMessage().contains("layer3.weight") && e.getMessage().contains("NaN"), e.getMessage());
    x[77] = Float.POSITIVE_INFINITY;
    assertThrows(IllegalArgumentException.class,
        () -> QuantCodec.perTensor(8, true).encode(TensorData.ofFloats(info, x)));
  }

  @Test
  void wrongPayloadLengthsAreRejected() {
    TensorInfo info = TensorInfo.of("w", DType.FLOAT32, 8, 64);
    QuantCodec c = QuantCodec.blockwise(4, false, 32);
    ByteBuffer p = c.encode(TensorData.ofFloats(info, TestTensors.gaussian(512, 1, 1f)));
    assertThrows(MalformedPayloadException.class, () -> c.decode(info, p.duplicate().limit(p.remaining() - 1)));
    assertThrows(MalformedPayloadException.class, () -> c.decode(TensorInfo.of("w", DType.FLOAT32, 9, 64), p));
    assertThrows(MalformedPayloadException.class,
        () -> Codecs.fromStored(CodecId.QUANT, new byte[] {1, 9, 0, 2, 32}));
  }

  @Test
  void paramsRoundTrip() {
    for (Arguments a : codecs().toList()) {
      QuantCodec c = (QuantCodec) a.get()[0];
      QuantCodec back = (QuantCodec) Codecs.fromStored(CodecId.QUANT, c.params());
      assertArrayEquals(c.params(), back.params());
      assertEquals(c.describe(), back.describe());
    }
  }

  /** Super-block scales: every value within half its group's (decoded) step, a smaller payload, little more error. */
  @ParameterizedTest(name = "{0} bits")
  @org.junit.jupiter.params.provider.ValueSource(ints = {3, 4, 5, 6, 8})
  void superBlockScalesKeepTheErrorBoundInFewerBytes(int bits) {
    for (TensorInfo info : List.of(
        new TensorInfo("w", DType.FLOAT32, new long[] {200, 37}, TensorRole.MATMUL_WEIGHT, 0),
        new TensorInfo("c", DType.FLOAT32, new long[] {8, 20, 3, 3}, TensorRole.CONV_WEIGHT, 1))) {
      for (boolean sym : new boolean[] {true, false}) {
        QuantCodec plain = QuantCodec.blockwise(bits, sym, 32);
        QuantCodec sup = plain.withSuperScales();
        float[] x = TestTensors.gaussian((int) info.numel(), 11, 0.1f);
        ByteBuffer payload = sup.encode(TensorData.ofFloats(info, x));
        assertEquals(3, payload.get(0), "scale type 3");
        QuantCodec stored = (QuantCodec) Codecs.fromStored(CodecId.QUANT, sup.params());
        assertEquals(sup, stored);
        float[] y = stored.decode(info, payload.duplicate()).floats();
        QuantizedTensor q = stored.unpack(info, payload.duplicate());
        int r = (int) info.fiberLength();
        int inner = (int) info.inner();
        int fibers = (int) (info.numel() / r);
        int groups = fibers * ((r + 31) / 32);
        int expected = 1 + 2 * ((groups + 7) / 8) + groups + (sym ? 0 : (groups * bits + 7) / 8)
            + fibers * ((r * bits + 7) / 8);
        assertEquals(expected, payload.remaining(), "payload size as docs/cai-format.md 9.3 says");
        ByteBuffer plainPayload = plain.encode(TensorData.ofFloats(info, x));
        assertTrue(payload.remaining() < plainPayload.remaining());
        double e = 0;
        for (int i = 0; i < x.length; i++) {
          int f = (i / (r * inner)) * inner + i % inner;
          int k = (i / inner) % r;
          float s = q.scaleAt(q.group(f, k));
          assertTrue(Math.abs(x[i] - y[i]) <= s / 2 * 1.0001f + 1e-7f, "element " + i + ": " + x[i] + " -> " + y[i]);
          e += (x[i] - y[i]) * (double) (x[i] - y[i]);
        }
        float[] z = plain.decode(info, plainPayload).floats();
        double ePlain = 0;
        for (int i = 0; i < x.length; i++) {
          ePlain += (x[i] - z[i]) * (double) (x[i] - z[i]);
        }
        assertTrue(e < 1.1 * ePlain, "super scales " + e + " vs plain " + ePlain);
      }
    }
  }

  @Test
  void superBlockScalesDecodeZeroBlocksAsZeros() {
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {64, 20}, TensorRole.MATMUL_WEIGHT, 0);
    float[] x = TestTensors.gaussian(64 * 20, 3, 0.1f);
    for (int i = 0; i < 32 * 20; i++) {
      x[i] = 0f; // the first block of every fiber
    }
    QuantCodec c = QuantCodec.blockwise(4, false, 32).withSuperScales();
    float[] y = c.decode(info, c.encode(TensorData.ofFloats(info, x))).floats();
    for (int i = 0; i < 32 * 20; i++) {
      assertEquals(0f, y[i]);
    }
  }

  @Test
  void superBlockScalesNeedParamsVersion2AndBlocks() {
    byte[] p = QuantCodec.blockwise(4, true, 32).withSuperScales().params();
    assertEquals(2, p[0]);
    assertEquals(3, p[2], "flags: symmetric | super-block scales");
    p[0] = 1;
    byte[] v1 = p;
    assertThrows(MalformedPayloadException.class, () -> Codecs.fromStored(CodecId.QUANT, v1));
    assertThrows(IllegalArgumentException.class, () -> QuantCodec.perChannel(4, true).withSuperScales());
    assertEquals(1, QuantCodec.blockwise(4, true, 32).params()[0], "plain scales stay version 1");
  }
}
