package dev.selfbyt.cortexsdr.it.tensorflow;

import dev.selfbyt.cortexsdr.it.models.FashionMnistImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fashion-MNIST from Debian's {@code dataset-fashion-mnist} ({@code
 * /usr/share/datasets/fashion-mnist/*-idx*-ubyte.gz}): 60,000 training and 10,000 test images of
 * 28x28 pixels, 10 classes. Pixels come as floats in [0, 1], one row of 784 per image.
 *
 * @param pixels {@code count * 784} values in [0, 1]
 * @param labels the class of each image, 0 to 9
 */
public record FashionMnist(float[] pixels, int[] labels) {
  /** Where Debian installs it. */
  public static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");
  /** Pixels per image. */
  public static final int PIXELS = 28 * 28;

  /** The 60,000 training images. */
  public static FashionMnist train() throws IOException {
    return read("train");
  }

  /** The 10,000 test images. */
  public static FashionMnist test() throws IOException {
    return read("t10k");
  }

  /** Number of images. */
  public int count() {
    return labels.length;
  }

  /**
   * Writes the first {@code n} images as a NumPy {@code .npy} of float32 {@code [n, 784]}, the
   * calibration input {@code cortexsdr compress --calibrate} takes for a SavedModel.
   */
  public Path writeNpy(Path file, int n) throws IOException {
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + n + ", " + PIXELS + "), }";
    int pad = 64 - (10 + dict.length() + 1) % 64;
    String header = dict + " ".repeat(pad % 64) + "\n";
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10 + header.length() + 4 * n * PIXELS)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    b.putShort((short) header.length()).put(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (int i = 0; i < n * PIXELS; i++) {
      b.putFloat(pixels[i]);
    }
    return Files.write(file, b.array());
  }

  private static FashionMnist read(String prefix) throws IOException {
    FashionMnistImages all = prefix.equals("train") ? FashionMnistImages.train(DIR) : FashionMnistImages.test(DIR);
    float[] px = new float[all.size() * PIXELS];
    for (int i = 0; i < all.size(); i++) {
      System.arraycopy(all.images()[i], 0, px, i * PIXELS, PIXELS);
    }
    return new FashionMnist(px, all.labels());
  }
}
