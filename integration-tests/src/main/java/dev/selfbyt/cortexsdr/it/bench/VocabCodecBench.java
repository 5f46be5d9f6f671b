package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.RareRows;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.Codecs;
import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.RawCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.format.EncodedTensor;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The vocabulary table's codec, everything else fixed: takes a mixed-precision file written by
 * {@link QuantBitsBench} (its GPTQ-rounded weights stay as stored, byte for byte), re-encodes each
 * directly indexed embedding table from the fp32 model under each variant, and evaluates each
 * resulting {@code .cai} as {@code QuantBitsBench} does (200 Moby-Dick sentences decoded in ONNX
 * Runtime, pooled-embedding cosine against fp32). A table is never touched by GPTQ (a Gather has
 * no Hessian), so each file is the one {@code compress} writes with that override.
 *
 * <pre>
 * java -Xmx3g -Dai.djl.offline=true -cp target/benchmarks.jar dev.selfbyt.cortexsdr.it.bench.VocabCodecBench \
 *     model=bge base=/tmp/q/bge_small/super-anchors2-s16-0.9900.cai [frequency-text=5700] \
 *     variants=plan,rare:q2/32s,rare:c2/32s,all:c3/32s
 * </pre>
 *
 * A variant is {@code plan} (the table's planned codec: checks that re-encoding gives the stored
 * bytes), {@code all:C} (the whole table under C) or {@code rare:C} / {@code rare:C1+C2} (rows the
 * frequency text reads keep the planned codec, or C1; the others take C or C2). C is {@code
 * qB/K} (uniform, asymmetric) or {@code cB/K} (codebook), B bits, block K, {@code s} suffix for
 * super-block scales; {@code eS} (entropy-coded, relative step S) or {@code fp32}.
 */
public final class VocabCodecBench {
  private VocabCodecBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (String s : args) {
      int eq = s.indexOf('=');
      a.put(s.substring(0, eq).replaceFirst("^--", ""), s.substring(eq + 1));
    }
    RealModel model = RealModel.parse(a.getOrDefault("model", "minilm"));
    Path base = Path.of(a.get("base"));
    Path dir = base.getParent();
    int frequencyText = Integer.parseInt(a.getOrDefault("frequency-text", "5700"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    List<String> variants = List.of(a.getOrDefault("variants", "plan").split(","));
    double load0 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    Path fp32 = model.onnx(dir);
    long fp32Bytes = Files.size(fp32);
    List<Encoding> eval = new ArrayList<>();
    List<Map<String, OnnxCalibrator.Input>> text = new ArrayList<>();
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
      for (String s : MobyDick.sentences(200, 0)) {
        eval.add(tok.encode(s));
      }
      for (String s : MobyDick.sentences(frequencyText, 300)) {
        text.add(Embedder.input(tok.encode(s)));
      }
    }
    float[][] reference;
    try (Embedder e = new Embedder(fp32, model.pooling(), threads)) {
      reference = e.embedAll(eval);
    }
    List<QuantBitsBench.Row> rows = new ArrayList<>();
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      Map<String, long[]> counts = RareRows.counts(onnx, text);
      for (String v : variants) {
        String tag = base.getFileName().toString().replace(".cai", "") + "-vocab-" + v.replace(':', '-')
            .replace('/', '-').replace('+', '_');
        Path out = dir.resolve(tag + ".cai");
        String note = swap(base, out, onnx, counts, v);
        rows.add(QuantBitsBench.evaluate(model, "vocabulary " + v, Double.NaN, out, dir, tag, fp32Bytes, reference,
            eval, threads, 0, 0, note));
        System.err.println(QuantBitsBench.markdown(rows));
      }
    }
    double load1 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    System.out.printf(Locale.ROOT, "%nbase %s; rare rows counted on %d sentences; load average %.2f at start, "
        + "%.2f at end%n%n", base, frequencyText, load0, load1);
    System.out.println(QuantBitsBench.markdown(rows));
  }

  /**
   * A codec from {@code qB/K[s]} or {@code cB/K[s]}; {@code eS} is {@link EntropyQuantCodec} at
   * relative step S, {@code fp32} the table unquantized (to see what the rest of the file loses).
   */
  static TensorCodec codec(String s) {
    if (s.equals("fp32")) {
      return RawCodec.plain();
    }
    if (s.startsWith("e")) {
      return EntropyQuantCodec.of(Double.parseDouble(s.substring(1)));
    }
    boolean sup = s.endsWith("s");
    String[] f = (sup ? s.substring(0, s.length() - 1) : s).substring(1).split("/");
    int bits = Integer.parseInt(f[0]);
    int block = Integer.parseInt(f[1]);
    if (s.charAt(0) == 'q') {
      QuantCodec q = QuantCodec.blockwise(bits, false, block);
      return sup ? q.withSuperScales() : q;
    }
    if (s.charAt(0) == 'c') {
      CodebookQuantCodec c = CodebookQuantCodec.blockwise(bits, block);
      return sup ? c.withSuperScales() : c;
    }
    throw new IllegalArgumentException("a codec is qB/K[s] or cB/K[s], not " + s);
  }

  /** Writes {@code out}: {@code base} with each counted table re-encoded under {@code variant}; returns a note. */
  static String swap(Path base, Path out, OnnxModelReader onnx, Map<String, long[]> counts, String variant)
      throws IOException {
    StringBuilder note = new StringBuilder();
    try (CaiReader r = CaiReader.open(base)) {
      Map<String, TensorCodec> chosen = new LinkedHashMap<>();
      for (String table : counts.keySet()) {
        TensorCodec planned = Codecs.fromStored(r.entry(table).codec(), r.entry(table).params());
        TensorCodec c;
        if (variant.equals("plan") || !(planned instanceof QuantCodec)) { // a table kept lossless stays so
          c = planned;
        } else if (variant.startsWith("all:")) {
          c = codec(variant.substring(4));
        } else if (variant.startsWith("rare:")) {
          String[] parts = variant.substring(5).split("\\+");
          TensorCodec frequent = parts.length == 2 ? codec(parts[0]) : planned;
          TensorCodec rare = codec(parts[parts.length - 1]);
          c = tiered(counts.get(table), frequent, rare);
        } else {
          throw new IllegalArgumentException("variant is plan, all:C or rare:C[+C]; not " + variant);
        }
        chosen.put(table, c);
      }
      Path one = out.resolveSibling(out.getFileName() + ".tables.cai");
      CompressionOptions.Builder b = CompressionOptions.builder().preset(Preset.INT4);
      chosen.forEach((n, c) -> b.override(Pattern.quote(n), c));
      CompressionOptions options = b.build();
      CortexSdr.compress(new Only(onnx, chosen.keySet()), one, options);
      ZstdStage stage = options.zstdLevel() == 0 ? null : new ZstdStage(options.zstdLevel());
      try (CaiReader tables = CaiReader.open(one); CaiWriter w = CaiWriter.create(out, r.manifest(), r.graph(), stage)) {
        for (CaiEntry e : r.entries()) {
          CaiReader src = chosen.containsKey(e.name()) ? tables : r;
          CaiEntry s = src.entry(e.name());
          w.write(new EncodedTensor(s.info(), Codecs.fromStored(s.codec(), s.params()), src.storedBytes(s), s.zstd(),
              s.rawLength(), s.nmse(), s.maxAbsError()));
          if (src == tables) {
            boolean same = s.storedLength() == e.storedLength() && src.storedBytes(s).equals(r.storedBytes(e));
            note.append(String.format(Locale.ROOT, "%s: %s, %,d bytes (planned %s, %,d bytes%s); %s; ", e.name(),
                Codecs.fromStored(s.codec(), s.params()).describe(), s.storedLength(),
                Codecs.fromStored(e.codec(), e.params()).describe(), e.storedLength(), same ? ", identical" : "",
                rowErrors(onnx, tables.read(e.name()), counts.get(e.name()), e.info())));
          }
        }
        w.finish();
      } finally {
        if (stage != null) {
          stage.close();
        }
        Files.deleteIfExists(one);
      }
    }
    return note.toString();
  }

  /**
   * The table's error against fp32: normalized squared error over all rows, and the worst row's
   * (its squared error over its squared norm), over the rows the frequency text never read.
   */
  static String rowErrors(OnnxModelReader onnx, TensorData decoded, long[] counts, TensorInfo info) throws IOException {
    float[] x = onnx.read(onnx.tensors().stream().filter(t -> t.name().equals(info.name())).findFirst().orElseThrow())
        .floats();
    float[] y = decoded.floats();
    int r = (int) info.shape()[1];
    double err = 0;
    double norm = 0;
    double worst = 0;
    double rareErr = 0;
    double rareNorm = 0;
    for (int row = 0; row < counts.length; row++) {
      double e = 0;
      double n = 0;
      for (int j = row * r; j < (row + 1) * r; j++) {
        e += (double) (y[j] - x[j]) * (y[j] - x[j]);
        n += (double) x[j] * x[j];
      }
      err += e;
      norm += n;
      if (counts[row] == 0) {
        rareErr += e;
        rareNorm += n;
        worst = Math.max(worst, n > 0 ? e / n : 0);
      }
    }
    return String.format(Locale.ROOT, "table error %.4f, unread rows %.4f, worst unread row %.4f", err / norm,
        rareErr / rareNorm, worst);
  }

  static TensorCodec tiered(long[] counts, TensorCodec frequent, TensorCodec rare) {
    byte[] tiers = new byte[counts.length];
    for (int i = 0; i < counts.length; i++) {
      tiers[i] = (byte) (counts[i] > 0 ? 0 : 1);
    }
    return TieredQuantCodec.of(List.of(frequent, rare)).assign(tiers);
  }

  /** The named tensors of a source, nothing else. */
  record Only(TensorSource source, java.util.Set<String> names) implements TensorSource {
    @Override
    public String format() {
      return source.format();
    }

    @Override
    public byte[] graph() {
      return new byte[0];
    }

    @Override
    public List<TensorInfo> tensors() throws IOException {
      return source.tensors().stream().filter(t -> names.contains(t.name())).toList();
    }

    @Override
    public TensorData read(TensorInfo tensor) throws IOException {
      return source.read(tensor);
    }

    @Override
    public void close() {}
  }
}
