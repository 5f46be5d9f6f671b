package dev.selfbyt.cortexsdr.tensorflow;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A NumPy {@code .npy} file of float32 (or uint8, scaled to [0, 1]) values in C order, as
 * calibration inputs for a SavedModel: {@code numpy.save("calib.npy", x)} with the model input's
 * shape, samples along the first axis. Versions 1 to 3 of the format; no pickled objects.
 *
 * @param shape the array's shape
 * @param values its values, row-major
 */
public record NpyArray(long[] shape, float[] values) {
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=]?)([a-z]\\d+)'");
  private static final Pattern ORDER = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /**
   * Reads {@code file}.
   *
   * @throws SavedModelFormatException naming the file and the cause when it is not a float32 or
   *     uint8 C-order {@code .npy}
   */
  public static NpyArray read(Path file) throws IOException {
    byte[] b = Files.readAllBytes(file);
    String f = file.toString();
    if (b.length < 10 || (b[0] & 0xff) != 0x93 || !new String(b, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
      throw new SavedModelFormatException(f, null, "not a NumPy .npy file");
    }
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int major = b[6];
    long headerLen = major == 1 ? bb.getShort(8) & 0xffff : bb.getInt(8) & 0xffffffffL;
    int start = major == 1 ? 10 : 12;
    if (headerLen > b.length - start) {
      throw new SavedModelFormatException(f, null, "truncated .npy header");
    }
    String header = new String(b, start, (int) headerLen, StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher o = ORDER.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !o.find() || !s.find()) {
      throw new SavedModelFormatException(f, null, "unreadable .npy header: " + header.strip());
    }
    if (o.group(1).equals("True")) {
      throw new SavedModelFormatException(f, null, "Fortran-ordered array; save it in C order");
    }
    String type = d.group(2);
    if (d.group(1).equals(">") || !(type.equals("f4") || type.equals("u1"))) {
      throw new SavedModelFormatException(f, null, "element type " + d.group(1) + type + "; calibration reads "
          + "little-endian float32 (<f4) or uint8 (|u1, scaled to [0, 1])");
    }
    String[] dims = s.group(1).split(",");
    long[] shape = java.util.Arrays.stream(dims).map(String::strip).filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong).toArray();
    long n = 1;
    for (long x : shape) {
      n = Math.multiplyExact(n, x);
    }
    int size = type.equals("f4") ? 4 : 1;
    long data = start + headerLen;
    if (n > Integer.MAX_VALUE - 8 || data + n * size > b.length) {
      throw new SavedModelFormatException(f, null, "shape " + java.util.Arrays.toString(shape) + " needs " + n * size
          + " bytes of data; the file has " + (b.length - data));
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = size == 4 ? bb.getFloat((int) data + 4 * i) : (b[(int) data + i] & 0xff) / 255f;
    }
    return new NpyArray(shape, v);
  }
}
