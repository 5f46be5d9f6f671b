package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * NumPy {@code .npy} arrays (format versions 1 to 3, C order, little- or big-endian bool, int8 to
 * int64, uint8 to uint64, float16/32/64) and {@code .npz} archives of them (as {@code np.savez}
 * writes: a zip of {@code NAME.npy}, stored or deflated) read as calibration inputs. Anything
 * else (Fortran order, object or string arrays, a truncated or inconsistent file) is refused with
 * the file, the array and the cause.
 */
public final class NpyFiles {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([biuf])(\\d+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
  /** Largest array read (values), so that a hostile header cannot make us allocate gigabytes. */
  static final long MAX_VALUES = 1L << 28;

  private NpyFiles() {}

  /** One {@code .npy} file. */
  public static OnnxCalibrator.Input readNpy(Path file) throws IOException {
    return parse(Files.readAllBytes(file), file.toString(), null);
  }

  /** Every array of an {@code .npz} file, by name (the entry name without {@code .npy}), in file order. */
  public static Map<String, OnnxCalibrator.Input> readNpz(Path file) throws IOException {
    Map<String, OnnxCalibrator.Input> out = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        if (e.isDirectory()) {
          continue;
        }
        if (!e.getName().endsWith(".npy")) {
          throw new CaiException(file.toString(), e.getName(), "an .npz holds .npy arrays only");
        }
        if (e.getSize() > MAX_VALUES * 8) {
          throw new CaiException(file.toString(), e.getName(), "array of " + e.getSize() + " bytes is too large");
        }
        byte[] data;
        try (InputStream in = zip.getInputStream(e)) {
          data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, MAX_VALUES * 8 + 4096));
        }
        String name = e.getName().substring(0, e.getName().length() - 4);
        out.put(name, parse(data, file.toString(), name));
      }
    } catch (java.util.zip.ZipException ex) {
      throw new CaiException(file.toString(), null, "not a valid .npz (zip) file: " + ex.getMessage(), ex);
    }
    if (out.isEmpty()) {
      throw new CaiException(file.toString(), null, "the .npz holds no arrays");
    }
    return out;
  }

  /** Parses one {@code .npy} image; {@code array} names it in errors (null for a lone file). */
  static OnnxCalibrator.Input parse(byte[] b, String file, String array) throws CaiException {
    if (b.length < 10 || !java.util.Arrays.equals(java.util.Arrays.copyOf(b, 6), MAGIC)) {
      throw new CaiException(file, array, "not a .npy array (no \\x93NUMPY magic)");
    }
    int major = b[6];
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    long headerLen;
    int start;
    if (major == 1) {
      headerLen = Short.toUnsignedInt(bb.getShort(8));
      start = 10;
    } else if (major == 2 || major == 3) {
      if (b.length < 12) {
        throw new CaiException(file, array, "truncated .npy header");
      }
      headerLen = Integer.toUnsignedLong(bb.getInt(8));
      start = 12;
    } else {
      throw new CaiException(file, array, ".npy format version " + major + " is not supported (1 to 3 are)");
    }
    if (start + headerLen > b.length) {
      throw new CaiException(file, array, "truncated .npy header (" + headerLen + " bytes declared, "
          + (b.length - start) + " present)");
    }
    String header = new String(b, start, (int) headerLen,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find()) {
      throw new CaiException(file, array, "unsupported or missing dtype in .npy header " + header.strip()
          + " (bool, int, uint and float arrays are read)");
    }
    if (!f.find() || !s.find()) {
      throw new CaiException(file, array, "malformed .npy header " + header.strip());
    }
    if (f.group(1).equals("True")) {
      throw new CaiException(file, array, "Fortran-order arrays are not read: save with np.ascontiguousarray");
    }
    List<Long> dims = new ArrayList<>();
    for (String p : s.group(1).split(",")) {
      if (!p.isBlank()) {
        try {
          dims.add(Long.parseLong(p.strip().replaceFirst("L$", "")));
        } catch (NumberFormatException e) {
          throw new CaiException(file, array, "malformed shape (" + s.group(1) + ") in .npy header");
        }
      }
    }
    long n = 1;
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.get(i);
      if (shape[i] < 0 || (shape[i] > 0 && n > MAX_VALUES / shape[i])) {
        throw new CaiException(file, array, "shape " + java.util.Arrays.toString(shape) + " is negative or too large");
      }
      n *= shape[i];
    }
    char kind = d.group(2).charAt(0);
    int size = Integer.parseInt(d.group(3));
    ByteOrder order = d.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    int type = elemType(kind, size);
    if (type < 0) {
      throw new CaiException(file, array, "dtype " + kind + size + " is not supported");
    }
    int dataStart = (int) (start + headerLen);
    if ((long) b.length - dataStart != n * size) {
      throw new CaiException(file, array, "holds " + (b.length - dataStart) + " data bytes, its header "
          + java.util.Arrays.toString(shape) + " of " + kind + size + " needs " + (n * size)
          + (b.length - dataStart < n * size ? " (truncated)" : ""));
    }
    ByteBuffer data = ByteBuffer.wrap(b, dataStart, (int) (n * size)).slice().order(order);
    int count = (int) n;
    if (kind == 'f') {
      float[] v = new float[count];
      for (int i = 0; i < count; i++) {
        v[i] = switch (size) {
          case 2 -> dev.selfbyt.cortexsdr.core.tensor.Fp16.toFloat(data.getShort(2 * i));
          case 4 -> data.getFloat(4 * i);
          default -> (float) data.getDouble(8 * i);
        };
      }
      return OnnxCalibrator.Input.ofFloats(type, shape, v);
    }
    long[] v = new long[count];
    for (int i = 0; i < count; i++) {
      v[i] = switch (size) {
        case 1 -> kind == 'u' || kind == 'b' ? Byte.toUnsignedInt(data.get(i)) : data.get(i);
        case 2 -> kind == 'u' ? Short.toUnsignedInt(data.getShort(2 * i)) : data.getShort(2 * i);
        case 4 -> kind == 'u' ? Integer.toUnsignedLong(data.getInt(4 * i)) : data.getInt(4 * i);
        default -> data.getLong(8 * i);
      };
    }
    return OnnxCalibrator.Input.ofIntegers(type, shape, v);
  }

  private static int elemType(char kind, int size) {
    return switch (kind) {
      case 'b' -> size == 1 ? DataType.BOOL_VALUE : -1;
      case 'i' -> switch (size) {
        case 1 -> DataType.INT8_VALUE;
        case 2 -> DataType.INT16_VALUE;
        case 4 -> DataType.INT32_VALUE;
        case 8 -> DataType.INT64_VALUE;
        default -> -1;
      };
      case 'u' -> switch (size) {
        case 1 -> DataType.UINT8_VALUE;
        case 2 -> DataType.UINT16_VALUE;
        case 4 -> DataType.UINT32_VALUE;
        case 8 -> DataType.UINT64_VALUE;
        default -> -1;
      };
      case 'f' -> switch (size) {
        case 2 -> DataType.FLOAT16_VALUE;
        case 4 -> DataType.FLOAT_VALUE;
        case 8 -> DataType.DOUBLE_VALUE;
        default -> -1;
      };
      default -> -1;
    };
  }
}
