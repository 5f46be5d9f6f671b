package dev.selfbyt.cortexsdr.pytorch;

import dev.selfbyt.cortexsdr.converters.torchzip.TorchZipWriter;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * A TorchScript module with its weights zeroed: what a {@code .cai} made from TorchScript keeps in its
 * graph segment. It is the archive's records in their order, each weight storage reduced to its
 * length (a zeroed storage is all zeros: its length is all there is to it) and the {@code .cai}
 * tensor that fills it; every other record (code, {@code data.pkl}, constants) kept as it was. So the
 * skeleton of a 100 MB model is a few hundred KB before the entropy stage, and {@link #write} with no
 * weights gives the zeroed module, which PyTorch loads and runs.
 *
 * <p>Encoded as a zip: the records, storages as empty entries, and a last entry {@code
 * cortexsdr-skeleton.json} mapping each storage record to {@code {"tensor": name, "bytes": n}}.
 */
public final class TorchScriptSkeleton {
  /** The entry of the encoded skeleton that lists the storages. */
  static final String INDEX = "cortexsdr-skeleton.json";

  /** One record: its full zip name, and either its bytes or the storage it holds. */
  public record Record(String name, byte[] bytes, String tensor, long storageBytes) {
    /** Whether this record is a weight storage filled from a tensor. */
    public boolean isStorage() {
      return tensor != null;
    }
  }

  /** Where the bytes of a storage come from when the module is written. */
  @FunctionalInterface
  public interface Weights {
    /** The little-endian bytes of {@code tensor}, or null to write zeros. */
    ByteBuffer get(String tensor) throws IOException;
  }

  private final List<Record> records;

  /** A skeleton of these records, in zip order. */
  public TorchScriptSkeleton(List<Record> records) {
    this.records = List.copyOf(records);
  }

  /** The records, in zip order. */
  public List<Record> records() {
    return records;
  }

  /** The storage records only. */
  public List<Record> storages() {
    List<Record> out = new ArrayList<>();
    for (Record r : records) {
      if (r.isStorage()) {
        out.add(r);
      }
    }
    return out;
  }

  /** The encoded skeleton (the graph segment). */
  public byte[] encode() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Map<String, Object> index = new LinkedHashMap<>();
    try (TorchZipWriter z = new TorchZipWriter(bytes)) {
      for (Record r : records) {
        z.add(r.name(), ByteBuffer.wrap(r.isStorage() ? new byte[0] : r.bytes()));
        if (r.isStorage()) {
          Map<String, Object> s = new LinkedHashMap<>();
          s.put("tensor", r.tensor());
          s.put("bytes", r.storageBytes());
          index.put(r.name(), s);
        }
      }
      z.add(INDEX, ByteBuffer.wrap(Json.write(index).getBytes(StandardCharsets.UTF_8)));
    }
    return bytes.toByteArray();
  }

  /**
   * Decodes a graph segment.
   *
   * @param file the {@code .cai}, for messages
   * @throws TorchScriptFormatException when the segment is no skeleton
   */
  public static TorchScriptSkeleton decode(String file, byte[] graph) throws TorchScriptFormatException {
    List<String> names = new ArrayList<>();
    Map<String, byte[]> data = new LinkedHashMap<>();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(graph))) {
      ZipEntry e;
      while ((e = in.getNextEntry()) != null) {
        names.add(e.getName());
        data.put(e.getName(), in.readAllBytes());
      }
    } catch (ZipException e) {
      throw new TorchScriptFormatException(file, null, "graph segment is no TorchScript skeleton (" + e.getMessage()
          + ")", e);
    } catch (IOException e) {
      throw new TorchScriptFormatException(file, null, "graph segment cannot be read: " + e, e);
    }
    byte[] indexBytes = data.get(INDEX);
    if (indexBytes == null || !names.get(names.size() - 1).equals(INDEX)) {
      throw new TorchScriptFormatException(file, null, "graph segment is no TorchScript skeleton (no " + INDEX + ")");
    }
    Object parsed;
    try {
      parsed = Json.parse(new String(indexBytes, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new TorchScriptFormatException(file, null, "graph segment's " + INDEX + " is no JSON: " + e.getMessage(), e);
    }
    if (!(parsed instanceof Map<?, ?> index)) {
      throw new TorchScriptFormatException(file, null, "graph segment's " + INDEX + " is no JSON object");
    }
    List<Record> records = new ArrayList<>();
    for (String n : names.subList(0, names.size() - 1)) {
      Object s = index.get(n);
      if (s == null) {
        records.add(new Record(n, data.get(n), null, 0));
      } else if (s instanceof Map<?, ?> m && m.get("tensor") instanceof String t && m.get("bytes") instanceof Number b
          && b.longValue() >= 0) {
        records.add(new Record(n, null, t, b.longValue()));
      } else {
        throw new TorchScriptFormatException(file, null, "graph segment's " + INDEX + " has a bad entry for " + n);
      }
    }
    return new TorchScriptSkeleton(records);
  }

  /**
   * Writes the TorchScript archive: every record as it was, each storage from {@code weights}
   * (zeros where it gives null).
   *
   * @param file the {@code .cai}, for messages
   * @throws TorchScriptFormatException when a tensor's bytes do not fill its storage exactly
   */
  public void write(String file, OutputStream out, Weights weights) throws IOException {
    try (TorchZipWriter z = new TorchZipWriter(out)) {
      write(file, z, weights);
    }
  }

  /**
   * Adds the TorchScript archive's records to {@code zip}, as {@link #write(String, OutputStream,
   * Weights)} does; the caller finishes the zip.
   *
   * @param file the {@code .cai}, for messages
   * @throws TorchScriptFormatException when a tensor's bytes do not fill its storage exactly
   */
  public void write(String file, TorchZipWriter zip, Weights weights) throws IOException {
    for (Record r : records) {
      if (!r.isStorage()) {
        zip.add(r.name(), ByteBuffer.wrap(r.bytes()));
        continue;
      }
      ByteBuffer b = weights.get(r.tensor());
      if (b == null) {
        if (r.storageBytes() > Integer.MAX_VALUE) {
          throw new TorchScriptFormatException(file, r.tensor(), "storage of " + r.storageBytes() + " bytes is "
              + "over 2 GiB");
        }
        b = ByteBuffer.allocate((int) r.storageBytes());
      }
      if (b.remaining() != r.storageBytes()) {
        throw new TorchScriptFormatException(file, r.tensor(), "has " + b.remaining() + " bytes, but its storage "
            + r.name() + " in the module holds " + r.storageBytes() + " (shape mismatch)");
      }
      zip.add(r.name(), b);
    }
  }

  /** Bytes of the written archive's storages: a size hint for an in-memory copy. */
  public long storageBytes() {
    long n = 0;
    for (Record r : records) {
      n += r.isStorage() ? r.storageBytes() : r.bytes().length;
    }
    return n;
  }
}
