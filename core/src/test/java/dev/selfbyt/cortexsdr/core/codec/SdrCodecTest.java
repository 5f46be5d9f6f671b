package dev.selfbyt.cortexsdr.core.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.TestTensors;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SdrCodecTest {
  private static final TensorInfo W =
      new TensorInfo("w", DType.FLOAT32, new long[] {128, 48}, TensorRole.MATMUL_WEIGHT, 0);

  @ParameterizedTest
  @ValueSource(doubles = {0.0, 0.5, 0.75, 0.9, 0.95, 1.0})
  void keepsTheLargestWeightsOfEachFiberExactly(double sparsity) {
    float[] x = TestTensors.gaussian((int) W.numel(), 3, 1f);
    SdrCodec c = SdrCodec.builder().sparsity(sparsity).build();
    ByteBuffer p = c.encode(TensorData.ofFloats(W, x));
    SdrCodec stored = (SdrCodec) Codecs.fromStored(CodecId.SDR, c.params());
    float[] y = stored.decode(W, p).floats();
    int keepPerFiber = (int) Math.round(128 * (1 - sparsity));
    for (int n = 0; n < 48; n++) {
      float[] mags = new float[128];
      int kept = 0;
      float minKept = Float.MAX_VALUE;
      float maxDropped = 0;
      for (int k = 0; k < 128; k++) {
        int i = k * 48 + n;
        mags[k] = Math.abs(x[i]);
        if (y[i] != 0) {
          assertEquals(x[i], y[i]); // fp32 values are exact
          kept++;
          minKept = Math.min(minKept, Math.abs(x[i]));
        } else {
          maxDropped = Math.max(maxDropped, Math.abs(x[i]));
        }
      }
      assertEquals(keepPerFiber, kept, "fiber " + n);
      assertTrue(kept == 0 || kept == 128 || minKept >= maxDropped, "kept the largest in fiber " + n);
    }
  }

  @Test
  void picksBitmapWhenDenseAndDeltasWhenSparse() {
    float[] x = TestTensors.gaussian((int) W.numel(), 4, 1f);
    ByteBuffer dense = SdrCodec.builder().sparsity(0.5).build().encode(TensorData.ofFloats(W, x));
    ByteBuffer sparse = SdrCodec.builder().sparsity(0.95).build().encode(TensorData.ofFloats(W, x));
    assertEquals(SdrCodec.POS_BITMAP, dense.get(0));
    assertEquals(SdrCodec.POS_DELTA, sparse.get(0));
    ByteBuffer abs = SdrCodec.builder().sparsity(0.99).deltaPositions(false).build().encode(TensorData.ofFloats(W, x));
    assertEquals(SdrCodec.POS_U32, abs.get(0));
    // 95% sparse with fp32 values: well under 1/10 of the dense size
    assertTrue(sparse.remaining() < W.byteSize() / 10, "95% sparse payload " + sparse.remaining());
  }

  @Test
  void thresholdModeDropsSmallMagnitudes() {
    float[] x = TestTensors.gaussian((int) W.numel(), 5, 1f);
    SdrCodec c = SdrCodec.builder().threshold(1.5f).perTensor(true).fp16Values().build();
    float[] y = c.decode(W, c.encode(TensorData.ofFloats(W, x))).floats();
    for (int i = 0; i < x.length; i++) {
      if (Math.abs(x[i]) > 1.5f) {
        assertEquals(x[i], y[i], Math.abs(x[i]) / 1024);
      } else {
        assertEquals(0f, y[i]);
      }
    }
  }

  @Test
  void perTensorSelectionKeepsTheTargetFractionOverall() {
    float[] x = TestTensors.gaussian((int) W.numel(), 6, 1f);
    SdrCodec c = SdrCodec.builder().sparsity(0.8).perTensor(true).build();
    SdrCodec.SparseTensor s = c.unpack(W, c.encode(TensorData.ofFloats(W, x)));
    assertEquals(Math.round(W.numel() * 0.2), s.nnz());
  }

  @Test
  void quantizedValuesStayWithinTheirQuantizationBound() {
    float[] x = TestTensors.gaussian((int) W.numel(), 7, 1f);
    QuantCodec q = QuantCodec.blockwise(4, false, 32);
    SdrCodec c = SdrCodec.builder().sparsity(0.75).quantizedValues(q).build();
    ByteBuffer p = c.encode(TensorData.ofFloats(W, x));
    SdrCodec stored = (SdrCodec) Codecs.fromStored(CodecId.SDR, c.params());
    SdrCodec.SparseTensor exact = SdrCodec.builder().sparsity(0.75).build()
        .unpack(W, SdrCodec.builder().sparsity(0.75).build().encode(TensorData.ofFloats(W, x)));
    SdrCodec.SparseTensor lossy = stored.unpack(W, p);
    assertTrue(Arrays.equals(exact.positions(), lossy.positions()));
    float maxVal = 0;
    for (float v : x) {
      maxVal = Math.max(maxVal, Math.abs(v));
    }
    for (int i = 0; i < exact.nnz(); i++) {
      // a 4-bit block spans at most 2 * max|x|, so a step is at most 2 * max / 15
      assertEquals(exact.values()[i], lossy.values()[i], maxVal / 15 + 1e-6f);
    }
    assertTrue(p.remaining() * 8.0 / W.numel() < 3.5, "50%+ sparse 4-bit sdr bpw " + p.remaining() * 8.0 / W.numel());
  }

  @Test
  void rejectsPositionsOutsideTheTensor() {
    float[] x = TestTensors.gaussian((int) W.numel(), 8, 1f);
    SdrCodec c = SdrCodec.builder().sparsity(0.95).build();
    ByteBuffer p = c.encode(TensorData.ofFloats(W, x));
    TensorInfo smaller = new TensorInfo("w", DType.FLOAT32, new long[] {16, 48}, TensorRole.MATMUL_WEIGHT, 0);
    org.junit.jupiter.api.Assertions.assertThrows(MalformedPayloadException.class, () -> c.decode(smaller, p));
  }
}
