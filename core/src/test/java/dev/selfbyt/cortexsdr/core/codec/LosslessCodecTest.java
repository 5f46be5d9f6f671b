package dev.selfbyt.cortexsdr.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.TestTensors;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class LosslessCodecTest {
  static Stream<Arguments> everyLosslessCodecOnEveryDType() {
    List<Arguments> out = new ArrayList<>();
    for (TensorCodec c : List.of(RawCodec.plain(), RawCodec.shuffled(), RleCodec.INSTANCE)) {
      for (DType t : DType.values()) {
        out.add(Arguments.of(c, t));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("everyLosslessCodecOnEveryDType")
  void roundTripsBitExactly(TensorCodec codec, DType dtype) {
    for (long[] shape : new long[][] {{}, {0}, {1}, {7}, {33, 5}, {2, 3, 64}}) {
      TensorInfo info = TensorInfo.of("t", dtype, shape);
      TensorData data = TestTensors.random(info, 42 + shape.length);
      ByteBuffer payload = codec.encode(data);
      TensorData back = Codecs.fromStored(codec.id(), codec.params()).decode(info, payload);
      assertArrayEquals(TestTensors.bytes(data), TestTensors.bytes(back), codec.describe() + " " + info);

      ByteBuffer z = new ZstdStage(3).compress(payload.duplicate());
      if (z != null) {
        ByteBuffer unz = ZstdStage.decompress(z, payload.remaining());
        assertArrayEquals(TestTensors.bytes(data), TestTensors.bytes(codec.decode(info, unz)));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void rleShrinksRunsAndKeepsMixedDataExact(DType dtype) {
    int n = 10_000;
    TensorInfo info = TensorInfo.of("mask", dtype, n);
    ByteBuffer b = ByteBuffer.allocate(n * dtype.size());
    // long runs with short literal stretches between them, and NaN payloads for floats
    byte[] lit = TestTensors.bytes(TestTensors.random(TensorInfo.of("x", dtype, 3), 5));
    for (int i = 0; i < n; i++) {
      if (i % 1000 < 3) {
        b.put(lit, (i % 1000) * dtype.size(), dtype.size());
      } else {
        b.put(new byte[dtype.size()]);
      }
    }
    TensorData data = TensorData.ofBytes(info, b.flip());
    ByteBuffer payload = RleCodec.INSTANCE.encode(data);
    assertTrue(payload.remaining() < n * dtype.size() / 20, "rle payload " + payload.remaining());
    assertArrayEquals(TestTensors.bytes(data), TestTensors.bytes(RleCodec.INSTANCE.decode(info, payload)));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT16"})
  void nanAndInfinityPayloadBitsSurvive(DType dtype) {
    TensorInfo info = TensorInfo.of("odd", dtype, 6);
    ByteBuffer b = ByteBuffer.allocate(6 * dtype.size()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    if (dtype == DType.FLOAT32) {
      b.putInt(0x7fc00001).putInt(0xffc12345).putFloat(Float.POSITIVE_INFINITY).putFloat(-0f)
          .putInt(1).putFloat(Float.NEGATIVE_INFINITY);
    } else {
      b.putShort((short) 0x7e01).putShort((short) 0xfe02).putShort((short) 0x7c00).putShort((short) 0x8000)
          .putShort((short) 1).putShort((short) 0xfc00);
    }
    TensorData d = TensorData.ofBytes(info, b.flip());
    for (TensorCodec c : List.of(RawCodec.plain(), RawCodec.shuffled(), RleCodec.INSTANCE)) {
      assertArrayEquals(TestTensors.bytes(d), TestTensors.bytes(c.decode(info, c.encode(d))), c.describe());
    }
  }

  @org.junit.jupiter.api.Test
  void truncatedPayloadsAreRejected() {
    TensorInfo info = TensorInfo.of("t", DType.INT32, 100);
    TensorData d = TestTensors.random(info, 1);
    ByteBuffer raw = RawCodec.plain().encode(d);
    assertThrows(MalformedPayloadException.class,
        () -> RawCodec.plain().decode(info, raw.duplicate().limit(raw.remaining() - 1)));
    ByteBuffer rle = RleCodec.INSTANCE.encode(d);
    assertThrows(RuntimeException.class,
        () -> RleCodec.INSTANCE.decode(info, rle.duplicate().limit(rle.remaining() - 3)));
    assertThrows(MalformedPayloadException.class, () -> ZstdStage.decompress(ByteBuffer.wrap(new byte[100]), 400));
  }
}
