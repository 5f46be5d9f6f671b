package dev.selfbyt.cortexsdr.tensorflow;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;

/**
 * A SavedModel without its variables' values: what the graph segment of a {@code .cai} made from
 * a SavedModel holds. The folder's files other than the checkpoint's ({@code saved_model.pb} as it
 * was, {@code fingerprint.pb}, {@code assets/...}), by relative path, and the checkpoint header
 * and entries (type, shape; offsets and checksums are recomputed when written back).
 *
 * <p>Encoding, version 1 (big-endian, Java {@code DataOutput}): the 8 bytes {@code CSDRTFS1};
 * the file count, then per file its relative path ({@code writeUTF}, {@code /} separated), its
 * length and bytes; the header's length and {@code BundleHeaderProto} bytes; the entry count, then
 * per entry its key ({@code writeUTF}), its length and {@code BundleEntryProto} bytes.
 */
record SavedModelSkeleton(Map<String, byte[]> files, BundleHeaderProto header, Map<String, BundleEntryProto> entries) {
  private static final byte[] MAGIC = "CSDRTFS1".getBytes(StandardCharsets.US_ASCII);
  /** The metagraph file, required in every SavedModel. */
  static final String SAVED_MODEL_PB = "saved_model.pb";

  byte[] encode() {
    try {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(b);
      out.write(MAGIC);
      out.writeInt(files.size());
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        out.writeUTF(f.getKey());
        out.writeInt(f.getValue().length);
        out.write(f.getValue());
      }
      byte[] h = header.toByteArray();
      out.writeInt(h.length);
      out.write(h);
      out.writeInt(entries.size());
      for (Map.Entry<String, BundleEntryProto> e : entries.entrySet()) {
        out.writeUTF(e.getKey());
        byte[] p = e.getValue().toByteArray();
        out.writeInt(p.length);
        out.write(p);
      }
      out.flush();
      return b.toByteArray();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // a byte array does not fail
    }
  }

  /** Decodes a graph segment; {@code file} (the {@code .cai}) names it in errors. */
  static SavedModelSkeleton decode(String file, byte[] graph) throws SavedModelFormatException {
    if (graph.length < MAGIC.length || !Arrays.equals(graph, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new SavedModelFormatException(file, null, "its graph segment is not a SavedModel skeleton (was it made "
          + "from a SavedModel?)");
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(graph, MAGIC.length, graph.length))) {
      Map<String, byte[]> files = new LinkedHashMap<>();
      int n = count(in, graph.length);
      for (int i = 0; i < n; i++) {
        String path = in.readUTF();
        if (path.isEmpty() || path.startsWith("/") || Arrays.asList(path.split("/")).contains("..")) {
          throw new SavedModelFormatException(file, null, "the SavedModel skeleton names a file outside its folder: '"
              + path + "'");
        }
        files.put(path, in.readNBytes(length(in, graph.length)));
      }
      if (!files.containsKey(SAVED_MODEL_PB)) {
        throw new SavedModelFormatException(file, null, "the SavedModel skeleton has no saved_model.pb");
      }
      BundleHeaderProto header = BundleHeaderProto.parseFrom(in.readNBytes(length(in, graph.length)));
      Map<String, BundleEntryProto> entries = new LinkedHashMap<>();
      int m = count(in, graph.length);
      for (int i = 0; i < m; i++) {
        String key = in.readUTF();
        entries.put(key, BundleEntryProto.parseFrom(in.readNBytes(length(in, graph.length))));
      }
      return new SavedModelSkeleton(files, header, entries);
    } catch (InvalidProtocolBufferException e) {
      throw new SavedModelFormatException(file, null, "damaged SavedModel skeleton: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new SavedModelFormatException(file, null, "truncated SavedModel skeleton", e);
    }
  }

  private static int count(DataInputStream in, int limit) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > limit) {
      throw new IOException("bad count " + n);
    }
    return n;
  }

  private static int length(DataInputStream in, int limit) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > limit) {
      throw new IOException("bad length " + n);
    }
    return n;
  }
}
