package dev.selfbyt.cortexsdr.converters.statedict;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Small {@code torch.save} files made byte by byte, as the format is (a zip of stored records, a
 * protocol-2 pickle), for tests that need a state dict without Python: valid ones and hostile ones.
 */
public final class TorchFiles {
  private TorchFiles() {}

  /** A pickle of {@code OrderedDict(name -> FloatStorage-backed tensor)}, protocol 2, as torch writes one. */
  public static byte[] statePickle(String name, String storageKey, long storageNumel, long[] size, long[] stride) {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(0x80);
    p.write(2);
    global(p, "collections", "OrderedDict");
    p.write(')');
    p.write('R');
    unicode(p, name);
    global(p, "torch._utils", "_rebuild_tensor_v2");
    p.write('(');
    p.write('(');
    unicode(p, "storage");
    global(p, "torch", "FloatStorage");
    unicode(p, storageKey);
    unicode(p, "cpu");
    binint(p, storageNumel);
    p.write('t');
    p.write('Q');
    binint(p, 0);
    p.write('(');
    for (long s : size) {
      binint(p, s);
    }
    p.write('t');
    p.write('(');
    for (long s : stride) {
      binint(p, s);
    }
    p.write('t');
    p.write(0x89);
    global(p, "collections", "OrderedDict");
    p.write(')');
    p.write('R');
    p.write('t');
    p.write('R');
    p.write('s');
    p.write('.');
    return p.toByteArray();
  }

  /** A pickle that calls {@code module.name(argument)} when Python unpickles it. */
  public static byte[] callPickle(String module, String name, String argument) {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(0x80);
    p.write(2);
    global(p, module, name);
    unicode(p, argument);
    p.write(0x85);
    p.write('R');
    p.write('.');
    return p.toByteArray();
  }

  static void global(ByteArrayOutputStream p, String module, String name) {
    p.write('c');
    p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  static void unicode(ByteArrayOutputStream p, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    p.write('X');
    p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
    p.writeBytes(b);
  }

  static void binint(ByteArrayOutputStream p, long v) {
    p.write('J');
    p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
  }

  /** A zip of stored records, as torch.save writes them. */
  public static byte[] zip(Map<String, byte[]> records) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> r : records.entrySet()) {
        ZipEntry e = new ZipEntry(r.getKey());
        e.setMethod(ZipEntry.STORED);
        e.setSize(r.getValue().length);
        CRC32 crc = new CRC32();
        crc.update(r.getValue());
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(r.getValue());
        z.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  /**
   * A state dict file: {@code archive/data.pkl}, then (unless {@code storageFloats} is negative)
   * {@code archive/data/0} holding that many floats, then {@code archive/version}.
   */
  public static byte[] stateDict(byte[] pickle, int storageFloats) throws IOException {
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("archive/data.pkl", pickle);
    if (storageFloats >= 0) {
      ByteBuffer b = ByteBuffer.allocate(4 * storageFloats).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < storageFloats; i++) {
        b.putFloat(i * 0.25f - 1);
      }
      records.put("archive/data/0", b.array());
    }
    records.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    return zip(records);
  }
}
