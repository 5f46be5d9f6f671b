package dev.selfbyt.cortexsdr.tensorflow;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;

/**
 * Writes a TensorFlow checkpoint ({@code prefix.index} and one data shard {@code
 * prefix.data-00000-of-00001}) as TensorFlow's {@code BundleWriter} does: the variables' bytes
 * one after the other in the order they are added (the original's order keeps the shard's bytes
 * the same), and an index, in key order, whose entries keep each variable's type and shape and give
 * its offset, size and masked CRC32C. Call {@link #add} once per variable, then {@link #finish}.
 */
final class CheckpointWriter implements AutoCloseable {
  private final Path prefix;
  private final OutputStream data;
  private final WritableByteChannel channel;
  private final BundleHeaderProto header;
  private final java.util.TreeMap<String, byte[]> entries = new java.util.TreeMap<>(
      (a, b) -> java.util.Arrays.compareUnsigned(a.getBytes(java.nio.charset.StandardCharsets.UTF_8),
          b.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  private long offset;

  /** Starts a checkpoint at {@code prefix} (e.g. {@code dir/variables/variables}). */
  CheckpointWriter(Path prefix, BundleHeaderProto header) throws IOException {
    this.prefix = prefix;
    this.header = header.toBuilder().setNumShards(1).build();
    this.data = Files.newOutputStream(prefix.resolveSibling(prefix.getFileName() + ".data-00000-of-00001"));
    this.channel = Channels.newChannel(data);
  }

  /** Appends one variable: {@code entry} gives its type and shape, {@code bytes} its values. */
  void add(String key, BundleEntryProto entry, ByteBuffer bytes) throws IOException {
    int crc = TableReader.maskedCrc(bytes);
    long size = bytes.remaining();
    ByteBuffer b = bytes.duplicate();
    while (b.hasRemaining()) {
      channel.write(b);
    }
    entries.put(key, entry.toBuilder().setShardId(0).setOffset(offset).setSize(size).setCrc32C(crc).build()
        .toByteArray());
    offset += size;
  }

  /** Writes the index; the checkpoint is complete. */
  void finish() throws IOException {
    data.flush();
    TableWriter index = new TableWriter().add("", header.toByteArray());
    entries.forEach(index::add);
    Files.write(prefix.resolveSibling(prefix.getFileName() + ".index"), index.finish());
  }

  @Override
  public void close() throws IOException {
    data.close();
  }

  /** For tests: the entries a finished index holds. */
  static Map<String, BundleEntryProto> entries(Path index) throws IOException {
    return CheckpointIndex.read(index).entries();
  }
}
