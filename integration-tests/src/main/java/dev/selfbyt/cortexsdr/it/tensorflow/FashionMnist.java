package dev.selfbyt.cortexsdr.it.tensorflow;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

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
    Path images = DIR.resolve(prefix + "-images-idx3-ubyte.gz");
    Path labels = DIR.resolve(prefix + "-labels-idx1-ubyte.gz");
    if (!Files.isRegularFile(images) || !Files.isRegularFile(labels)) {
      throw new IOException(images + ": missing; install Debian's dataset-fashion-mnist");
    }
    try (DataInputStream in = open(images); DataInputStream lab = open(labels)) {
      if (in.readInt() != 0x803 || lab.readInt() != 0x801) {
        throw new IOException(images + ": not an idx file pair (bad magic)");
      }
      int n = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      if (lab.readInt() != n || rows * cols != PIXELS) {
        throw new IOException(images + ": " + n + " images of " + rows + "x" + cols + " do not match the labels");
      }
      byte[] raw = in.readNBytes(n * PIXELS);
      byte[] l = lab.readNBytes(n);
      float[] px = new float[raw.length];
      for (int i = 0; i < raw.length; i++) {
        px[i] = (raw[i] & 0xff) / 255f;
      }
      int[] y = new int[n];
      for (int i = 0; i < n; i++) {
        y[i] = l[i];
      }
      return new FashionMnist(px, y);
    }
  }

  private static DataInputStream open(Path p) throws IOException {
    InputStream in = new GZIPInputStream(Files.newInputStream(p), 1 << 16);
    return new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16));
  }
}
