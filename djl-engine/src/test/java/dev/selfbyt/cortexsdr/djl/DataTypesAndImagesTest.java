package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.util.NDImageUtils;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Data types (FLOAT16 held exactly, FLOAT64 never reported as float32) and DJL's image
 * operators (resize, toTensor, normalize) on CortexSDR arrays.
 */
class DataTypesAndImagesTest {
  private NDManager m;
  private final Random rnd = new Random(11);

  @BeforeEach
  void open() {
    m = NDManager.newBaseManager("CortexSDR");
  }

  @AfterEach
  void close() {
    m.close();
  }

  /** {@code x} rounded to the nearest float16 (normal range), ties to even: 10 fraction bits. */
  private static float toHalf(float x) {
    double ulp = Math.pow(2, Math.getExponent(x) - 10);
    return (float) (Math.rint(x / ulp) * ulp);
  }

  @Test
  void float16ArraysHoldFloat16ValuesAndStayFloat16() {
    float[] x = Reference.random(rnd, 12, 0.01f, 30);
    NDArray h = m.create(x, new Shape(3, 4)).toType(DataType.FLOAT16, false);
    assertEquals(DataType.FLOAT16, h.getDataType());
    float[] expect = new float[12];
    for (int i = 0; i < 12; i++) {
      expect[i] = toHalf(x[i]);
    }
    assertArrayEquals(expect, h.toFloatArray());
    ByteBuffer bytes = h.toByteBuffer().order(ByteOrder.nativeOrder());
    assertEquals(24, bytes.remaining(), "two bytes per value");

    NDArray sum = h.add(h.mul(3));
    assertEquals(DataType.FLOAT16, sum.getDataType(), "float16 op float16 stays float16");
    float[] s = sum.toFloatArray();
    for (int i = 0; i < 12; i++) {
      assertEquals(toHalf(4 * expect[i]), s[i], "rounded to float16 after the operator");
    }
    assertEquals(DataType.FLOAT16, h.softmax(-1).getDataType());
    assertEquals(DataType.FLOAT32, h.add(m.create(x, new Shape(3, 4))).getDataType(), "float16 + float32 is float32");
    assertEquals(DataType.FLOAT16, m.zeros(new Shape(2), DataType.FLOAT16).getDataType());
    NDArray back = m.create(h.toByteBuffer(), h.getShape(), DataType.FLOAT16);
    assertArrayEquals(expect, back.toFloatArray(), "float16 bytes read back");
  }

  @Test
  void float64IsNeverReportedAsFloat32() {
    NDArray a = m.create(new float[] {1.5f, -2f});
    NDArray d = a.toType(DataType.FLOAT64, false);
    // the test classpath has the tokenizers' Rust engine: CortexSDR hands FLOAT64 arrays to it
    assertEquals(DataType.FLOAT64, d.getDataType());
    assertArrayEquals(new double[] {1.5, -2}, d.toDoubleArray());
    NDArray created = m.create(new double[] {0.1, 0.2});
    assertEquals(DataType.FLOAT64, created.getDataType());
    assertArrayEquals(new double[] {0.1, 0.2}, created.toDoubleArray(), "no float32 rounding on the way");
    assertNotEquals(DataType.FLOAT32, m.ones(new Shape(2), DataType.FLOAT64).getDataType());
  }

  @Test
  void bilinearAndAreaResizeAverageAndNearestDuplicates() {
    // [H=4, W=6, C=2] image: halving with bilinear (align_corners=false) samples the middle of each
    // 2x2 block, so it equals the block mean, as area resizing does
    float[] x = Reference.random(rnd, 4 * 6 * 2, 0, 255);
    NDArray img = m.create(x, new Shape(4, 6, 2));
    float[] mean = new float[2 * 3 * 2];
    for (int y = 0; y < 2; y++) {
      for (int xo = 0; xo < 3; xo++) {
        for (int c = 0; c < 2; c++) {
          double s = 0;
          for (int dy = 0; dy < 2; dy++) {
            for (int dx = 0; dx < 2; dx++) {
              s += x[((2 * y + dy) * 6 + 2 * xo + dx) * 2 + c];
            }
          }
          mean[(y * 3 + xo) * 2 + c] = (float) (s / 4);
        }
      }
    }
    NDArray bilinear = NDImageUtils.resize(img, 3, 2, Image.Interpolation.BILINEAR);
    assertInstanceOf(CaiNDArray.class, bilinear);
    assertEquals(new Shape(2, 3, 2), bilinear.getShape());
    assertArrayEquals(mean, bilinear.toFloatArray(), 1e-3f);
    assertArrayEquals(mean, NDImageUtils.resize(img, 3, 2, Image.Interpolation.AREA).toFloatArray(), 1e-3f);
    assertArrayEquals(x, NDImageUtils.resize(img, 6, 4, Image.Interpolation.BILINEAR).toFloatArray(), 1e-4f);
    NDArray nearest = NDImageUtils.resize(img, 12, 8, Image.Interpolation.NEAREST);
    float[] n = nearest.toFloatArray();
    for (int y = 0; y < 8; y++) {
      for (int xo = 0; xo < 12; xo++) {
        assertEquals(x[((y / 2) * 6 + xo / 2) * 2 + 1], n[(y * 12 + xo) * 2 + 1], "nearest at " + y + "," + xo);
      }
    }
  }

  @Test
  void toTensorAndNormalizeLikeDjlsImageTransforms() {
    byte[] pixels = new byte[2 * 3 * 3];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 14);
    }
    NDArray hwc = m.create(ByteBuffer.wrap(pixels), new Shape(2, 3, 3), DataType.UINT8);
    NDArray chw = NDImageUtils.toTensor(hwc);
    assertInstanceOf(CaiNDArray.class, chw);
    assertEquals(DataType.FLOAT32, chw.getDataType());
    assertEquals(new Shape(3, 2, 3), chw.getShape());
    float[] mean = {0.485f, 0.456f, 0.406f};
    float[] std = {0.229f, 0.224f, 0.225f};
    float[] norm = NDImageUtils.normalize(chw, mean, std).toFloatArray();
    for (int c = 0; c < 3; c++) {
      for (int p = 0; p < 6; p++) {
        double v = (pixels[p * 3 + c] & 0xff) / 255.0;
        assertEquals((v - mean[c]) / std[c], norm[c * 6 + p], 1e-5, "channel " + c + " pixel " + p);
      }
    }
  }
}
