package dev.selfbyt.cortexsdr.it.models;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST as Debian's {@code dataset-fashion-mnist} installs it ({@code
 * /usr/share/datasets/fashion-mnist/*-idx*-ubyte.gz}): 28 x 28 grey images as rows of 784 floats in
 * [0, 1], and labels 0-9. The one reader of the IDX files: the SDR proof of concept, the trained
 * classifiers of {@link FashionMnist} and the TF Java fixture all read them through it.
 *
 * @param images one row of {@link #PIXELS} values per image
 * @param labels the class of each image
 */
public record FashionMnistImages(float[][] images, int[] labels) {
  /** Values per image. */
  public static final int PIXELS = 28 * 28;
  /** Number of classes. */
  public static final int CLASSES = 10;
  /** Where Debian's package puts the files. */
  public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** The 60,000 training images. */
  public static FashionMnistImages train(Path dir) throws IOException {
    return read(dir, "train");
  }

  /** The 10,000 test images. */
  public static FashionMnistImages test(Path dir) throws IOException {
    return read(dir, "t10k");
  }

  /** Number of images. */
  public int size() {
    return labels.length;
  }

  /** Images {@code from} (inclusive) to {@code to} as one row-major [n, 784] array. */
  public float[] batch(int[] order, int from, int to) {
    float[] out = new float[(to - from) * PIXELS];
    for (int i = from; i < to; i++) {
      System.arraycopy(images[order == null ? i : order[i]], 0, out, (i - from) * PIXELS, PIXELS);
    }
    return out;
  }

  private static FashionMnistImages read(Path dir, String prefix) throws IOException {
    Path img = dir.resolve(prefix + "-images-idx3-ubyte.gz");
    Path lab = dir.resolve(prefix + "-labels-idx1-ubyte.gz");
    if (!Files.isRegularFile(img) || !Files.isRegularFile(lab)) {
      throw new IOException("Fashion-MNIST not found in " + dir
          + ": install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)");
    }
    float[][] images;
    try (DataInputStream in = open(img, 0x803)) {
      int n = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      if (rows * cols != PIXELS || n <= 0 || n > 1_000_000) {
        throw new IOException(img + ": expected 28 x 28 images, header says " + n + " x " + rows + " x " + cols);
      }
      images = new float[n][PIXELS];
      byte[] buf = new byte[PIXELS];
      for (int i = 0; i < n; i++) {
        in.readFully(buf);
        for (int p = 0; p < PIXELS; p++) {
          images[i][p] = (buf[p] & 0xff) / 255f;
        }
      }
    }
    int[] labels;
    try (DataInputStream in = open(lab, 0x801)) {
      int n = in.readInt();
      if (n != images.length) {
        throw new IOException(lab + ": " + n + " labels for " + images.length + " images in " + img);
      }
      labels = new int[n];
      for (int i = 0; i < n; i++) {
        labels[i] = in.readUnsignedByte();
        if (labels[i] >= CLASSES) {
          throw new IOException(lab + ": label " + labels[i] + " at " + i + " is not a class 0-9");
        }
      }
    }
    return new FashionMnistImages(images, labels);
  }

  private static DataInputStream open(Path p, int magic) throws IOException {
    InputStream raw = new GZIPInputStream(Files.newInputStream(p), 1 << 16);
    DataInputStream in = new DataInputStream(raw);
    int m = in.readInt();
    if (m != magic) {
      in.close();
      throw new IOException(p + ": not an IDX file of the expected kind (magic " + Integer.toHexString(m) + ")");
    }
    return in;
  }
}
