package dev.selfbyt.cortexsdr.it.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The structure-aware mutator: the fuzzer's input is read as a short program of edits to the
 * fields of a valid {@link CaiImage} (dtype, role, axis, shape, codec, params, flags, offsets,
 * lengths, payload bytes and varints, manifest, graph, entry order and names, versions, footer
 * offsets), and the image is then written with every checksum recomputed. libFuzzer's coverage
 * feedback works on the program bytes, so it learns which edits reach new parser code.
 *
 * <p>Lengths and offsets get values near the boundaries that matter to a reader on a 64-bit JVM
 * (2^31, 2^32, 2^63, sizes a few bytes off), so allocation and overflow checks are exercised.
 */
final class CaiMutator {
  private CaiMutator() {}

  /** Values near the limits of ints, longs, array sizes and the file's own layout. */
  static final long[] INTERESTING = {
    0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 65535,
    65536, 1L << 20, (1L << 28) - 1, 1L << 28, (1L << 28) + 1, 1L << 30, (1L << 31) - 65, (1L << 31) - 64,
    (1L << 31) - 17, (1L << 31) - 1, 1L << 31, (1L << 31) + 63, (1L << 32) - 1, 1L << 32, (1L << 32) + 1,
    1L << 40, 1L << 62, Long.MAX_VALUE, -1, Long.MIN_VALUE, -64
  };

  static long interesting(FuzzedDataProvider d, long near) {
    switch (d.consumeInt(0, 3)) {
      case 0:
        return near + d.consumeInt(-3, 3);
      case 1:
        return near * 2 + d.consumeInt(-1, 1);
      case 2:
        return d.consumeLong();
      default:
        return INTERESTING[d.consumeInt(0, INTERESTING.length - 1)];
    }
  }

  /** Applies up to {@code maxEdits} edits chosen by {@code d} to a copy of {@code seed}. */
  static CaiImage mutate(CaiImage seed, FuzzedDataProvider d, int maxEdits) {
    CaiImage img = seed.copy();
    int edits = d.consumeInt(1, maxEdits);
    for (int i = 0; i < edits && d.remainingBytes() > 0; i++) {
      edit(img, d);
    }
    return img;
  }

  private static void edit(CaiImage img, FuzzedDataProvider d) {
    int op = d.consumeInt(0, 31);
    if (img.entries.isEmpty() && op < 24) {
      op = 24 + (op % 8);
    }
    CaiImage.Entry e = img.entries.isEmpty() ? null : img.entries.get(d.consumeInt(0, img.entries.size() - 1));
    switch (op) {
      case 0 -> e.dtype = d.consumeBoolean() ? d.consumeInt(0, 20) : d.consumeInt(0, 255);
      case 1 -> e.role = d.consumeInt(0, 7);
      case 2 -> e.axis = interesting(d, e.axis);
      case 3 -> {
        if (e.shape.length > 0) {
          int k = d.consumeInt(0, e.shape.length - 1);
          e.shape[k] = interesting(d, e.shape[k]);
        }
      }
      case 4 -> { // grow or shrink the rank, keeping or breaking numel
        int rank = d.consumeInt(0, 6);
        long[] s = Arrays.copyOf(e.shape, rank);
        for (int k = e.shape.length; k < rank; k++) {
          s[k] = d.consumeBoolean() ? 1 : interesting(d, 2);
        }
        e.shape = s;
      }
      case 5 -> e.rankOverride = interesting(d, e.shape.length);
      case 6 -> e.codec = d.consumeBoolean() ? d.consumeInt(0, 4) : d.consumeInt(0, 255);
      case 7 -> e.params = editBytes(e.params, d);
      case 8 -> { // a params byte to a small value: version, bits, flags, granularity, value type
        if (e.params.length > 0) {
          e.params[d.consumeInt(0, e.params.length - 1)] = (byte) d.consumeInt(0, 9);
        }
      }
      case 9 -> e.flags = d.consumeInt(0, 3);
      case 10 -> e.offsetOverride = d.consumeBoolean()
          ? interesting(d, 64)
          : otherOffset(img, d);
      case 11 -> e.storedOverride = interesting(d, e.payload.length);
      case 12 -> e.rawOverride = interesting(d, e.payload.length);
      case 13 -> e.crcOverride = d.consumeInt();
      case 14, 15, 16 -> e.payload = editBytes(e.payload, d);
      case 17, 18 -> e.payload = putVarint(e.payload, d); // RLE counts, SDR nnz, positions, block sizes
      case 19 -> e.payload = Arrays.copyOf(e.payload, (int) Math.max(0, Math.min(1 << 16,
          e.payload.length + d.consumeInt(-64, 64))));
      case 20 -> {
        e.nmse = d.consumeFloat();
        e.maxAbs = d.consumeFloat();
      }
      case 21 -> e.extra = editBytes(e.extra, d);
      case 22 -> e.name = d.consumeBoolean()
          ? img.entries.get(d.consumeInt(0, img.entries.size() - 1)).name.clone()
          : d.consumeBytes(d.consumeInt(0, 40));
      case 23 -> { // another tensor's payload, codec and params under this entry's shape
        CaiImage.Entry o = img.entries.get(d.consumeInt(0, img.entries.size() - 1));
        e.payload = o.payload.clone();
        if (d.consumeBoolean()) {
          e.codec = o.codec;
          e.params = o.params.clone();
        }
      }
      case 24 -> {
        if (!img.entries.isEmpty()) {
          int k = d.consumeInt(0, img.entries.size() - 1);
          if (d.consumeBoolean()) {
            img.entries.remove(k);
          } else {
            img.entries.add(d.consumeInt(0, img.entries.size()), img.entries.get(k).copy());
          }
        }
      }
      case 25 -> img.countOverride = interesting(d, img.entries.size());
      case 26 -> img.directoryTrailer = d.consumeBytes(d.consumeInt(0, 8));
      case 27 -> editManifest(img, d);
      case 28 -> img.graph.data = editBytes(img.graph.data, d);
      case 29 -> editSegment(d.consumeBoolean() ? img.manifest : (d.consumeBoolean() ? img.graph : img.directory), d);
      case 30 -> {
        if (d.consumeBoolean()) {
          img.major = d.consumeInt(0, 3);
        }
        img.minor = d.consumeInt(0, 0xffff);
      }
      default -> {
        switch (d.consumeInt(0, 3)) {
          case 0 -> img.manifestOffsetOverride = interesting(d, 32);
          case 1 -> img.graphOffsetOverride = interesting(d, 64);
          case 2 -> img.directoryOffsetOverride = interesting(d, 256);
          default -> img.tailDelta = d.consumeInt(-48, 16);
        }
      }
    }
  }

  private static long otherOffset(CaiImage img, FuzzedDataProvider d) {
    // a payload start of another entry, or a position inside the segments before the payloads
    long size = 1024;
    for (CaiImage.Entry e : img.entries) {
      size += e.payload.length + 64;
    }
    return 64L * d.consumeLong(0, size / 64);
  }

  private static void editManifest(CaiImage img, FuzzedDataProvider d) {
    switch (d.consumeInt(0, 3)) {
      case 0 -> img.manifest.data = editBytes(img.manifest.data, d);
      case 1 -> img.manifest.data = d.consumeString(d.consumeInt(0, 64)).getBytes(StandardCharsets.UTF_8);
      case 2 -> { // deep nesting and long numbers: the JSON parser's own limits
        int depth = d.consumeInt(1, 100_000);
        String open = d.consumeBoolean() ? "[" : "{\"a\":";
        img.manifest.data = (open.repeat(depth)).getBytes(StandardCharsets.UTF_8);
      }
      default -> {
        String s = new String(img.manifest.data, StandardCharsets.UTF_8);
        int at = d.consumeInt(0, s.length());
        img.manifest.data = (s.substring(0, at) + d.consumeString(16) + s.substring(at)).getBytes(StandardCharsets.UTF_8);
      }
    }
  }

  private static void editSegment(CaiImage.Segment s, FuzzedDataProvider d) {
    switch (d.consumeInt(0, 4)) {
      case 0 -> s.flags = d.consumeInt(0, 255);
      case 1 -> s.rawLengthOverride = interesting(d, s.data.length);
      case 2 -> s.storedLengthOverride = interesting(d, s.data.length);
      case 3 -> s.tag = d.consumeInt();
      default -> s.storedOverride = editBytes(s.data, d);
    }
  }

  /** Flips, sets, inserts, deletes or overwrites a run of bytes. */
  static byte[] editBytes(byte[] b, FuzzedDataProvider d) {
    int at = b.length == 0 ? 0 : d.consumeInt(0, b.length - 1);
    switch (d.consumeInt(0, 5)) {
      case 0 -> {
        if (b.length > 0) {
          b = b.clone();
          b[at] ^= (byte) (1 << d.consumeInt(0, 7));
        }
      }
      case 1 -> {
        if (b.length > 0) {
          b = b.clone();
          b[at] = d.consumeByte();
        }
      }
      case 2 -> {
        byte[] ins = d.consumeBytes(d.consumeInt(1, 16));
        byte[] out = new byte[b.length + ins.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(ins, 0, out, at, ins.length);
        System.arraycopy(b, at, out, at + ins.length, b.length - at);
        b = out;
      }
      case 3 -> {
        int n = Math.min(b.length - at, d.consumeInt(1, 16));
        byte[] out = new byte[b.length - n];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + n, out, at, b.length - at - n);
        b = out;
      }
      case 4 -> b = Arrays.copyOf(b, at);
      default -> {
        if (b.length >= 4) {
          b = b.clone();
          int p = Math.min(at, b.length - 4);
          ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(p, (int) interesting(d, 1));
        }
      }
    }
    return b;
  }

  /** Replaces {@code 1..3} bytes at a position with a varint (the width of a length or count may change). */
  static byte[] putVarint(byte[] b, FuzzedDataProvider d) {
    int at = b.length == 0 ? 0 : d.consumeInt(0, b.length - 1);
    int drop = Math.min(b.length - at, d.consumeInt(0, 3));
    CaiImage.Out v = new CaiImage.Out();
    v.varint(interesting(d, 4));
    byte[] ins = v.toArray();
    byte[] out = new byte[b.length - drop + ins.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(ins, 0, out, at, ins.length);
    System.arraycopy(b, at + drop, out, at + ins.length, b.length - at - drop);
    return out;
  }
}
