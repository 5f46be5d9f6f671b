package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.codec.CodecId;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code inspect} shows first: the tensors of an archive grouped by codec and bit width
 * ("quant int8", "sdr int4", "raw float32", ...), each with its tensor count, its weights' bytes
 * before compression, its stored bytes and its share of all stored bytes; largest share first.
 */
record CodecSummary(List<Row> rows, long storedTotal) {
  /** One codec and bit width. */
  record Row(String group, int tensors, long weightBytes, long storedBytes) {}

  private static final Pattern WIDTH = Pattern.compile("\\b(?:int|fp)(\\d+)\\b");

  static CodecSummary of(Collection<CaiEntry> entries) {
    Map<String, long[]> groups = new TreeMap<>();
    long total = 0;
    for (CaiEntry e : entries) {
      long[] g = groups.computeIfAbsent(group(e), k -> new long[3]);
      g[0]++;
      g[1] += e.info().byteSize();
      g[2] += e.storedLength();
      total += e.storedLength();
    }
    List<Row> rows = new ArrayList<>();
    groups.forEach((k, g) -> rows.add(new Row(k, (int) g[0], g[1], g[2])));
    rows.sort(Comparator.comparingLong(Row::storedBytes).reversed().thenComparing(Row::group));
    return new CodecSummary(rows, total);
  }

  /**
   * "quant int8", "sdr int4" (the width of the kept values), and for the lossless codecs their
   * name and the tensor's own type ("raw float32", "rle int64"): the codec and how many bits a
   * weight is stored in before the entropy stage.
   */
  static String group(CaiEntry e) {
    CodecId id = e.codec();
    String family = id == null ? "unknown" : id.name().toLowerCase(Locale.ROOT);
    if (id == CodecId.QUANT || id == CodecId.SDR) {
      Matcher m = WIDTH.matcher(e.describe());
      String width = null;
      while (m.find()) {
        width = m.group(); // the last: SDR describes its selection before its values
      }
      return width == null ? family : family + " " + width;
    }
    return family + " " + e.info().dtype().name().toLowerCase(Locale.ROOT);
  }

  double share(Row r) {
    return storedTotal == 0 ? 0 : (double) r.storedBytes() / storedTotal;
  }

  void print(PrintWriter o) {
    int w = Math.max(20, rows.stream().mapToInt(r -> r.group().length()).max().orElse(0));
    o.printf(Locale.ROOT, "%-" + w + "s %8s %16s %16s %7s%n", "codec and width", "tensors", "weight bytes",
        "stored bytes", "share");
    for (Row r : rows) {
      o.printf(Locale.ROOT, "%-" + w + "s %8d %,16d %,16d %6.1f%%%n", r.group(), r.tensors(), r.weightBytes(),
          r.storedBytes(), 100 * share(r));
    }
  }

  List<Object> toJson() {
    List<Object> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("codec", r.group());
      m.put("tensors", r.tensors());
      m.put("tensorBytes", r.weightBytes());
      m.put("storedBytes", r.storedBytes());
      m.put("share", share(r));
      out.add(m);
    }
    return out;
  }
}
