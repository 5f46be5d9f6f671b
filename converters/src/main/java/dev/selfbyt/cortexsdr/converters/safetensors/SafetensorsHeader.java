package dev.selfbyt.cortexsdr.converters.safetensors;

import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of one safetensors file, read and checked: an 8-byte little-endian length {@code N},
 * then {@code N} bytes of UTF-8 JSON mapping each tensor name to {@code {"dtype", "shape",
 * "data_offsets": [begin, end]}} (offsets relative to the byte after the header) and an optional
 * {@code "__metadata__"} of string values; the tensors' bytes follow, packed without holes.
 *
 * <p>Everything is checked before anything of a declared size is allocated: {@code N} within the
 * file and at most {@link #MAX_HEADER_BYTES}; the JSON and each entry's fields; each dtype known;
 * each shape's byte size (overflow checked) equal to its offsets' span; every span inside the
 * data; no two spans overlapping; and the spans covering the data exactly, as the format requires.
 * Get one with {@link #read}.
 */
public final class SafetensorsHeader {
  /** The largest header read (the reference implementation's bound, 100 MB). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** One tensor's entry: its name, type, shape and byte span in the data section. */
  public record Entry(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {
    /** Bytes of data. */
    public long length() {
      return end - begin;
    }
  }

  private final byte[] json;
  private final long dataStart;
  private final List<Entry> entries;
  private final Map<String, String> metadata;

  private SafetensorsHeader(byte[] json, List<Entry> entries, Map<String, String> metadata) {
    this.json = json;
    this.dataStart = 8L + json.length;
    this.entries = List.copyOf(entries);
    this.metadata = metadata;
  }

  /** The header JSON exactly as stored (padding included). */
  public byte[] json() {
    return json.clone();
  }

  /** File offset of the data section. */
  public long dataStart() {
    return dataStart;
  }

  /** The tensors in the order of their data. */
  public List<Entry> entries() {
    return entries;
  }

  /** {@code __metadata__}, in stored order; empty when absent. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * Reads and checks the header of {@code file}.
   *
   * @throws SafetensorsFormatException naming the file, the tensor and what is wrong
   */
  public static SafetensorsHeader read(String file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw new SafetensorsFormatException(file, null, "file of " + size + " bytes: too short for a safetensors "
          + "header (8-byte length first)");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0, file);
    long n = lenBuf.getLong(0);
    if (n < 2 || n > size - 8) {
      throw new SafetensorsFormatException(file, null, "header length " + Long.toUnsignedString(n)
          + " does not fit the file (" + size + " bytes): truncated, or not a safetensors file");
    }
    if (n > MAX_HEADER_BYTES) {
      throw new SafetensorsFormatException(file, null, "header length " + n + " is over the " + MAX_HEADER_BYTES
          + "-byte limit of the format");
    }
    ByteBuffer hb = ByteBuffer.allocate((int) n);
    readFully(ch, hb, 8, file);
    byte[] json = hb.array();
    return parse(file, json, size - 8 - n);
  }

  /**
   * Checks a header's JSON against a data section of {@code dataLength} bytes, or, when {@code
   * dataLength} is negative, against the data its own entries describe (a header stored apart from
   * its data, as in a {@code .cai} graph segment).
   */
  static SafetensorsHeader parse(String file, byte[] json, long dataLength) throws SafetensorsFormatException {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(json)).toString();
    } catch (CharacterCodingException e) {
      throw new SafetensorsFormatException(file, null, "header is not UTF-8 text: not a safetensors file");
    }
    if (!text.startsWith("{")) {
      throw new SafetensorsFormatException(file, null, "header does not start with '{': not a safetensors file");
    }
    Object parsed;
    try {
      parsed = Json.parse(text);
    } catch (RuntimeException e) { // the parser's errors carry the offset
      throw new SafetensorsFormatException(file, null, "header is not valid JSON: " + e.getMessage(), e);
    }
    if (!(parsed instanceof Map<?, ?> top)) {
      throw new SafetensorsFormatException(file, null, "header is not a JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<?, ?> e : top.entrySet()) {
      String name = (String) e.getKey();
      if (name.equals("__metadata__")) {
        if (!(e.getValue() instanceof Map<?, ?> m)) {
          throw new SafetensorsFormatException(file, null, "__metadata__ is not a JSON object");
        }
        for (Map.Entry<?, ?> me : m.entrySet()) {
          if (!(me.getValue() instanceof String v)) {
            throw new SafetensorsFormatException(file, null, "__metadata__ value of '" + me.getKey()
                + "' is not a string (the format allows strings only)");
          }
          metadata.put((String) me.getKey(), v);
        }
        continue;
      }
      entries.add(entry(file, name, e.getValue(), dataLength));
    }
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long at = 0;
    Entry previous = null;
    for (Entry t : entries) {
      if (t.begin() < at) {
        throw new SafetensorsFormatException(file, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
            + "] overlap tensor '" + previous.name() + "' [" + previous.begin() + ", " + previous.end() + "]");
      }
      if (t.begin() > at) {
        throw new SafetensorsFormatException(file, t.name(), "bytes " + at + " to " + t.begin()
            + " of the data belong to no tensor (the format allows no holes; a duplicated name?)");
      }
      at = t.end();
      previous = t;
    }
    if (dataLength >= 0 && at != dataLength) {
      throw new SafetensorsFormatException(file, previous == null ? null : previous.name(), "the tensors cover "
          + at + " bytes of data, the file holds " + dataLength + " after the header"
          + (at < dataLength ? " (extra bytes at the end)" : ""));
    }
    return new SafetensorsHeader(json, entries, metadata);
  }

  private static Entry entry(String file, String name, Object value, long dataLength)
      throws SafetensorsFormatException {
    if (!(value instanceof Map<?, ?> m)) {
      throw new SafetensorsFormatException(file, name, "entry is not a JSON object");
    }
    if (!(m.get("dtype") instanceof String dt)) {
      throw new SafetensorsFormatException(file, name, "no dtype");
    }
    SafetensorsDType dtype = SafetensorsDType.parse(dt);
    if (dtype == null) {
      throw new SafetensorsFormatException(file, name, "unknown dtype '" + dt + "' (the format defines "
          + Arrays.toString(SafetensorsDType.values()) + ")");
    }
    if (!(m.get("shape") instanceof List<?> s)) {
      throw new SafetensorsFormatException(file, name, "no shape (a list of sizes)");
    }
    long[] shape = new long[s.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!(s.get(i) instanceof Long d) || d < 0) {
        throw new SafetensorsFormatException(file, name, "shape " + s + ": sizes must be non-negative integers");
      }
      shape[i] = d;
    }
    if (!(m.get("data_offsets") instanceof List<?> o) || o.size() != 2 || !(o.get(0) instanceof Long begin)
        || !(o.get(1) instanceof Long end)) {
      throw new SafetensorsFormatException(file, name, "data_offsets must be two integers [begin, end], not "
          + m.get("data_offsets"));
    }
    if (begin < 0 || end < begin || dataLength >= 0 && end > dataLength) {
      throw new SafetensorsFormatException(file, name, "data_offsets [" + begin + ", " + end
          + "] out of range: the data section holds " + dataLength + " bytes");
    }
    long bits = dtype.bits();
    for (long d : shape) {
      long h = Math.multiplyHigh(bits, d);
      bits *= d;
      if (h != 0 || bits < 0) {
        throw new SafetensorsFormatException(file, name, "shape " + Arrays.toString(shape) + " of " + dtype
            + " declares more bytes than fit 63 bits");
      }
    }
    if (bits % 8 != 0) {
      throw new SafetensorsFormatException(file, name, "shape " + Arrays.toString(shape) + " of " + dtype
          + " does not fill whole bytes");
    }
    if (bits / 8 != end - begin) {
      throw new SafetensorsFormatException(file, name, "shape " + Arrays.toString(shape) + " of " + dtype
          + " needs " + bits / 8 + " bytes, data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long at, String file) throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b, at + b.position()) < 0) {
        throw new SafetensorsFormatException(file, null, "truncated: ends inside the header");
      }
    }
  }
}
