package dev.selfbyt.cortexsdr.tensorflow;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;

/**
 * The contents of a checkpoint's {@code .index} file: its header (number of data shards,
 * endianness) and one {@code BundleEntryProto} per variable (element type, shape, shard, offset,
 * size, masked CRC32C of the bytes), in key order. Read with {@link #read(Path)}.
 */
record CheckpointIndex(BundleHeaderProto header, Map<String, BundleEntryProto> entries) {
  /** The largest index this reader accepts; real ones are kilobytes to a few megabytes. */
  static final long MAX_INDEX_BYTES = 256L << 20;

  /** Reads and checks {@code index} ({@code variables/variables.index}). */
  static CheckpointIndex read(Path index) throws IOException {
    if (!Files.isRegularFile(index)) {
      throw new SavedModelFormatException(index.toString(), null, "missing: a SavedModel keeps its variables in "
          + "variables/variables.index and variables/variables.data-*");
    }
    long size = Files.size(index);
    if (size > MAX_INDEX_BYTES) {
      throw new SavedModelFormatException(index.toString(), null, size + " bytes, larger than any checkpoint index "
          + "this reader accepts (" + MAX_INDEX_BYTES + ")");
    }
    return parse(index.toString(), Files.readAllBytes(index));
  }

  /** Parses index bytes; {@code file} names them in errors. */
  static CheckpointIndex parse(String file, byte[] bytes) throws SavedModelFormatException {
    java.util.List<TableReader.Entry> table;
    try {
      table = TableReader.read(bytes);
    } catch (IllegalArgumentException e) {
      throw new SavedModelFormatException(file, null, "not a readable checkpoint index: " + e.getMessage(), e);
    }
    if (table.isEmpty() || !table.get(0).key().isEmpty()) {
      throw new SavedModelFormatException(file, null, "a checkpoint index starts with its header entry (empty key); "
          + "this one has none");
    }
    BundleHeaderProto header;
    try {
      header = BundleHeaderProto.parseFrom(table.get(0).value());
    } catch (InvalidProtocolBufferException e) {
      throw new SavedModelFormatException(file, null, "damaged checkpoint header: " + e.getMessage(), e);
    }
    if (header.getEndianness() != BundleHeaderProto.Endianness.LITTLE) {
      throw new SavedModelFormatException(file, null, "a big-endian checkpoint; only little-endian ones are read");
    }
    if (header.getNumShards() < 1) {
      throw new SavedModelFormatException(file, null, "the header declares " + header.getNumShards() + " data shards");
    }
    Map<String, BundleEntryProto> entries = new LinkedHashMap<>();
    for (TableReader.Entry e : table.subList(1, table.size())) {
      BundleEntryProto p;
      try {
        p = BundleEntryProto.parseFrom(e.value());
      } catch (InvalidProtocolBufferException x) {
        throw new SavedModelFormatException(file, e.key(), "damaged entry: " + x.getMessage(), x);
      }
      if (p.getSlicesCount() > 0) {
        throw new SavedModelFormatException(file, e.key(), "a partitioned variable (stored in " + p.getSlicesCount()
            + " slices); only whole variables are read");
      }
      if (p.getShardId() < 0 || p.getShardId() >= header.getNumShards() || p.getOffset() < 0 || p.getSize() < 0) {
        throw new SavedModelFormatException(file, e.key(), "entry points to shard " + p.getShardId() + ", offset "
            + p.getOffset() + ", " + p.getSize() + " bytes; the header declares " + header.getNumShards() + " shards");
      }
      entries.put(e.key(), p);
    }
    return new CheckpointIndex(header, entries);
  }

  /** The data file of shard {@code id} beside {@code index} ({@code prefix.data-00000-of-00001}). */
  static Path shard(Path index, int id, int count) {
    String name = index.getFileName().toString();
    String prefix = name.substring(0, name.length() - ".index".length());
    return index.resolveSibling(String.format(java.util.Locale.ROOT, "%s.data-%05d-of-%05d", prefix, id, count));
  }
}
