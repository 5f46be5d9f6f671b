package dev.selfbyt.cortexsdr.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TensorInfoTest {
  @Test
  void fibersRunAlongTheReductionAxis() {
    TensorInfo w = new TensorInfo("w", DType.FLOAT32, new long[] {384, 1536}, TensorRole.MATMUL_WEIGHT, 0);
    assertEquals(384, w.fiberLength());
    assertEquals(1, w.outer());
    assertEquals(1536, w.inner());
    TensorInfo e = new TensorInfo("e", DType.FLOAT32, new long[] {30522, 384}, TensorRole.EMBEDDING, -1);
    assertEquals(1, e.reductionAxis());
    assertEquals(384, e.fiberLength());
    assertEquals(30522, e.outer());
    assertEquals(1, e.inner());
  }

  @Test
  void convolutionFibersSpanChannelsAndWindow() {
    TensorInfo k = new TensorInfo("k", DType.FLOAT32, new long[] {64, 32, 3, 3}, TensorRole.CONV_WEIGHT, 1);
    assertEquals(32 * 9, k.fiberLength());
    assertEquals(64, k.outer());
    assertEquals(1, k.inner());
    TensorInfo depthwise = new TensorInfo("d", DType.FLOAT32, new long[] {576, 1, 3, 3}, TensorRole.CONV_WEIGHT, 1);
    assertEquals(9, depthwise.fiberLength());
  }

  @Test
  void badShapesAndAxesAreRefusedWithTheTensorName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TensorInfo("w", DType.FLOAT32, new long[] {2, -1}, TensorRole.OTHER, 0));
    assertEquals(true, e.getMessage().contains("'w'"));
    assertThrows(IllegalArgumentException.class,
        () -> new TensorInfo("w", DType.FLOAT32, new long[] {2, 3}, TensorRole.OTHER, 2));
  }
}
