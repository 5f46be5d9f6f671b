package dev.selfbyt.cortexsdr.core.format;

import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantGrid;
import dev.selfbyt.cortexsdr.core.codec.RawCodec;
import dev.selfbyt.cortexsdr.core.codec.RleCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the golden {@code .cai} files of {@code core/src/test/resources/golden/}: one file per
 * codec and option family, from a small deterministic synthetic model, with the SHA-256 of every
 * decoded tensor in {@code SHA256SUMS}. {@link GoldenFilesTest} reads them with every later build.
 *
 * <p>Run once per format or codec version, never to "fix" a failing test (see the rule in
 * docs/cai-format.md, "Format stability"):
 *
 * <pre>
 * mvn -q -pl core test-compile
 * java -cp core/target/classes:core/target/test-classes:$(ls ~/.m2/repository/com/github/luben/zstd-jni/*&#47;zstd-jni-*.jar | tail -1) \
 *     dev.selfbyt.cortexsdr.core.format.GoldenFiles core/src/test/resources/golden [FILE...]
 * </pre>
 *
 * New golden files are added beside the old ones (a version suffix), so that every released
 * writer's files stay in the test.
 */
public final class GoldenFiles {
  static final String SUMS = "SHA256SUMS";

  private GoldenFiles() {}

  // ---- the synthetic model: small tensors of each shape family, fixed seeds ----

  static float[] gaussian(int n, long seed, double std) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (r.nextGaussian() * std);
    }
    return x;
  }

  static TensorInfo matmul(String name) {
    return new TensorInfo(name, DType.FLOAT32, new long[] {32, 24}, TensorRole.MATMUL_WEIGHT, 0);
  }

  static TensorInfo conv(String name) {
    return new TensorInfo(name, DType.FLOAT32, new long[] {8, 3, 3, 3}, TensorRole.CONV_WEIGHT, 1);
  }

  static TensorInfo embedding(String name) {
    return new TensorInfo(name, DType.FLOAT32, new long[] {20, 16}, TensorRole.EMBEDDING, 1);
  }

  static TensorData floats(TensorInfo info, long seed) {
    return TensorData.ofFloats(info, gaussian((int) info.numel(), seed, 0.05));
  }

  /** A tensor of any dtype: deterministic bytes, with a long run of zeros in the middle. */
  static TensorData bytesOf(String name, DType dtype, long seed) {
    TensorInfo info = TensorInfo.of(name, dtype, 6, 8);
    byte[] b = new byte[(int) info.byteSize()];
    new SplittableRandom(seed).nextBytes(b);
    if (dtype == DType.BOOL) {
      for (int i = 0; i < b.length; i++) {
        b[i] &= 1;
      }
    }
    if (dtype.isFloating()) { // finite values only: take them from gaussians
      float[] x = gaussian((int) info.numel(), seed, 1);
      return TensorData.ofFloats(info, x);
    }
    java.util.Arrays.fill(b, b.length / 4, b.length / 2, (byte) 0);
    return TensorData.ofBytes(info, ByteBuffer.wrap(b));
  }

  /** One tensor to write: its data and codec, and whether its payload goes through zstd. */
  record Item(TensorData data, TensorCodec codec, boolean zstd) {
    Item(TensorData data, TensorCodec codec) {
      this(data, codec, false);
    }
  }

  /** Every golden file: name -> tensors. */
  static Map<String, List<Item>> files() {
    Map<String, List<Item>> f = new LinkedHashMap<>();
    List<Item> raw = new ArrayList<>();
    List<Item> rawLater = new ArrayList<>(); // dtypes added after raw-v1.cai was written
    for (DType t : DType.values()) {
      TensorData d = bytesOf("raw." + t.name().toLowerCase(java.util.Locale.ROOT), t, 100 + t.code());
      (t.code() <= 19 ? raw : rawLater).add(new Item(d, t.code() % 2 == 0 ? RawCodec.shuffled() : RawCodec.plain()));
    }
    raw.add(new Item(TensorData.ofFloats(TensorInfo.of("raw.scalar", DType.FLOAT32), new float[] {0.25f}),
        RawCodec.plain()));
    raw.add(new Item(TensorData.ofFloats(TensorInfo.of("raw.empty", DType.FLOAT32, 0, 4), new float[0]),
        RawCodec.plain()));
    f.put("raw-v1.cai", raw);
    f.put("raw-float8e8m0-v1.cai", rawLater); // FLOAT8E8M0 (code 20), added with the safetensors converter

    List<Item> rle = new ArrayList<>();
    float[] mask = new float[300];
    java.util.Arrays.fill(mask, 100, 260, 1f);
    mask[5] = 0.5f;
    rle.add(new Item(TensorData.ofFloats(TensorInfo.of("rle.f32", DType.FLOAT32, 300), mask), RleCodec.INSTANCE));
    rle.add(new Item(bytesOf("rle.int64", DType.INT64, 7), RleCodec.INSTANCE));
    rle.add(new Item(bytesOf("rle.bool", DType.BOOL, 8), RleCodec.INSTANCE));
    f.put("rle-v1.cai", rle);

    for (int bits : new int[] {8, 4}) {
      List<Item> q = new ArrayList<>();
      long seed = bits * 10;
      for (boolean sym : new boolean[] {true, false}) {
        String s = sym ? "sym" : "asym";
        q.add(new Item(floats(matmul("q.tensor." + s), seed++), QuantCodec.perTensor(bits, sym)));
        q.add(new Item(floats(matmul("q.channel." + s), seed++), QuantCodec.perChannel(bits, sym)));
        q.add(new Item(floats(matmul("q.block32." + s), seed++), QuantCodec.blockwise(bits, sym, 32)));
        q.add(new Item(floats(conv("q.conv.block16." + s), seed++), QuantCodec.blockwise(bits, sym, 16)));
        q.add(new Item(floats(embedding("q.embedding.channel." + s), seed++), QuantCodec.perChannel(bits, sym)));
      }
      f.put("quant" + bits + "-v1.cai", q);
    }
    List<Item> low = new ArrayList<>();
    low.add(new Item(floats(matmul("q2.channel.sym"), 31), QuantCodec.perChannel(2, true)));
    low.add(new Item(floats(matmul("q3.block16.asym"), 32), QuantCodec.blockwise(3, false, 16)));
    low.add(new Item(floats(matmul("q5.block32.asym"), 33), QuantCodec.blockwise(5, false, 32)));
    low.add(new Item(floats(matmul("q6.block20.sym"), 34), QuantCodec.blockwise(6, true, 20)));
    // scales above fp16's range: the whole tensor falls back to fp32 scales
    float[] big = gaussian(32 * 24, 35, 1e8);
    low.add(new Item(TensorData.ofFloats(matmul("q8.fp32-scales"), big), QuantCodec.perChannel(8, false)));
    f.put("quant-lowbit-v1.cai", low);

    // calibrated: a grid chosen ahead (as GPTQ/activation scaling make one), fp32 scales kept as given
    List<Item> cal = new ArrayList<>();
    for (boolean fp16Exact : new boolean[] {false, true}) {
      TensorInfo info = matmul(fp16Exact ? "cal.fp16-exact" : "cal.fp32");
      int groups = 24; // 24 fibers of 32, block 32: one group per fiber
      float[] scales = new float[groups];
      int[] zps = new int[groups];
      SplittableRandom r = new SplittableRandom(fp16Exact ? 41 : 42);
      for (int g = 0; g < groups; g++) {
        float s = (float) (0.004 + r.nextDouble() * 0.01);
        scales[g] = fp16Exact ? dev.selfbyt.cortexsdr.core.tensor.Fp16.toFloat(
            dev.selfbyt.cortexsdr.core.tensor.Fp16.fromFloat(s)) : s;
        zps[g] = 8;
      }
      TensorData d = floats(info, fp16Exact ? 43 : 44).withGrid(new QuantGrid(4, false, 32, scales, zps));
      cal.add(new Item(d, QuantCodec.blockwise(4, false, 32)));
    }
    f.put("quant-calibrated-v1.cai", cal);

    // quant params version 2: super-block scales (fp16 per 8 groups, a byte per group), plain and on a grid
    List<Item> sup = new ArrayList<>();
    sup.add(new Item(floats(matmul("q4.block16.asym.super"), 51), QuantCodec.blockwise(4, false, 16).withSuperScales()));
    sup.add(new Item(floats(matmul("q5.block32.sym.super"), 52), QuantCodec.blockwise(5, true, 32).withSuperScales()));
    sup.add(new Item(floats(conv("q3.conv.block16.asym.super"), 53), QuantCodec.blockwise(3, false, 16).withSuperScales()));
    f.put("quant-superscales-v2.cai", sup);

    // tiered (codec id 4): a table whose rows 0, 3, 6... are 4-bit and the others 2-bit, and three tiers
    List<Item> tiered = new ArrayList<>();
    byte[] two = new byte[20];
    byte[] three = new byte[20];
    for (int row = 0; row < 20; row++) {
      two[row] = (byte) (row % 3 == 0 ? 0 : 1);
      three[row] = (byte) (row % 3);
    }
    tiered.add(new Item(floats(embedding("tiered.two"), 61), TieredQuantCodec.of(List.of(
        QuantCodec.blockwise(4, false, 16), QuantCodec.blockwise(2, false, 16))).assign(two)));
    tiered.add(new Item(floats(embedding("tiered.three"), 62), TieredQuantCodec.of(List.of(
        QuantCodec.perChannel(8, true), QuantCodec.blockwise(3, false, 8), QuantCodec.blockwise(5, true, 16)))
        .assign(three)));
    f.put("tiered-v1.cai", tiered);

    // entropy (codec id 6): steps per row, Huffman-coded codes; a table, and a weight whose fibers are strided
    List<Item> entropy = new ArrayList<>();
    entropy.add(new Item(floats(embedding("entropy.table"), 71), EntropyQuantCodec.of(0.58)));
    entropy.add(new Item(floats(matmul("entropy.matmul"), 72), EntropyQuantCodec.of(0.3)));
    f.put("entropy-v1.cai", entropy);

    List<Item> sdr = new ArrayList<>();
    sdr.add(new Item(floats(matmul("sdr.delta.fp32"), 51), SdrCodec.builder().sparsity(0.9).build()));
    sdr.add(new Item(floats(matmul("sdr.bitmap.fp16"), 52), SdrCodec.builder().sparsity(0.5).fp16Values().build()));
    sdr.add(new Item(floats(matmul("sdr.u32.pertensor"), 53),
        SdrCodec.builder().sparsity(0.97).perTensor(true).deltaPositions(false).build()));
    sdr.add(new Item(floats(conv("sdr.conv.threshold"), 54), SdrCodec.builder().threshold(0.06f).build()));
    sdr.add(new Item(floats(matmul("sdr.int4.values"), 55),
        SdrCodec.builder().sparsity(0.5).quantizedValues(QuantCodec.blockwise(4, false, 32)).build()));
    sdr.add(new Item(floats(embedding("sdr.int8.values"), 56),
        SdrCodec.builder().sparsity(0.75).quantizedValues(QuantCodec.perTensor(8, true)).build()));
    f.put("sdr-v1.cai", sdr);

    List<Item> z = new ArrayList<>();
    float[] smooth = new float[1024];
    for (int i = 0; i < smooth.length; i++) {
      smooth[i] = (i / 64) * 0.125f;
    }
    z.add(new Item(TensorData.ofFloats(TensorInfo.of("zstd.raw.shuffled", DType.FLOAT32, 1024), smooth),
        RawCodec.shuffled(), true));
    byte[] steps = new byte[2048];
    for (int i = 0; i < steps.length; i++) {
      steps[i] = (byte) ((i / 3) % 5 == 0 ? i % 7 : 0); // short runs and literals: rle tokens zstd shrinks
    }
    z.add(new Item(TensorData.ofBytes(TensorInfo.of("zstd.rle.int8", DType.INT8, 2048), ByteBuffer.wrap(steps)),
        RleCodec.INSTANCE, true));
    float[] levels = new float[32 * 24];
    for (int i = 0; i < levels.length; i++) {
      levels[i] = ((i / 24) % 4 - 1.5f) * 0.1f; // few distinct codes: a payload zstd shrinks
    }
    z.add(new Item(TensorData.ofFloats(matmul("zstd.quant8"), levels), QuantCodec.perChannel(8, true), true));
    f.put("zstd-v1.cai", z);
    return f;
  }

  static String sha256(ByteBuffer b) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(b.duplicate());
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Writes the golden files named in {@code only} (every one when empty) into {@code dir}, and
   * their lines of SHA256SUMS; the lines of the other files are kept as they are, so that adding a
   * file never rewrites the released ones (whose random file ids would change).
   */
  static void write(Path dir, java.util.Set<String> only) throws IOException {
    Files.createDirectories(dir);
    StringBuilder sums = new StringBuilder("# file tensor sha256-of-decoded-bytes (little-endian, in the tensor's dtype);"
        + " '*' = the file itself\n");
    Path sumsFile = dir.resolve(SUMS);
    if (!only.isEmpty() && Files.exists(sumsFile)) {
      for (String line : Files.readAllLines(sumsFile)) {
        if (!line.startsWith("#") && !only.contains(line.split(" ")[0])) {
          sums.append(line).append('\n');
        }
      }
    }
    for (Map.Entry<String, List<Item>> file : files().entrySet()) {
      if (!only.isEmpty() && !only.contains(file.getKey())) {
        continue;
      }
      Path p = dir.resolve(file.getKey());
      Map<String, Object> manifest = new LinkedHashMap<>();
      manifest.put("format", "cai");
      manifest.put("producer", "golden");
      manifest.put("source", Map.of("format", "test"));
      boolean zstdSegments = file.getKey().startsWith("zstd");
      ZstdStage stage = new ZstdStage(3);
      byte[] graph = zstdSegments ? "graph ".repeat(40).getBytes(java.nio.charset.StandardCharsets.UTF_8) : new byte[0];
      try (CaiWriter w = CaiWriter.create(p, manifest, graph, zstdSegments ? stage : null)) {
        for (Item it : file.getValue()) {
          ByteBuffer payload = it.codec().encode(it.data());
          int raw = payload.remaining();
          ByteBuffer z = it.zstd() ? stage.compress(payload.duplicate()) : null;
          if (it.zstd() && z == null) {
            throw new IllegalStateException(it.data().info().name() + " does not shrink under zstd");
          }
          w.write(new EncodedTensor(it.data().info(), it.codec(), z != null ? z : payload, z != null, raw, 0f, 0f));
        }
        w.finish();
      }
      sums.append(file.getKey()).append(" * ").append(sha256(ByteBuffer.wrap(Files.readAllBytes(p)))).append('\n');
      try (CaiReader r = CaiReader.open(p)) {
        for (CaiEntry e : r.entries()) {
          sums.append(file.getKey()).append(' ').append(e.name()).append(' ')
              .append(sha256(r.read(e.name()).bytes())).append('\n');
        }
      }
    }
    Files.writeString(dir.resolve(SUMS), sums.toString());
  }

  /** {@code GoldenFiles DIR [FILE...]}: writes the named golden files (all when none is named). */
  public static void main(String[] args) throws IOException {
    write(Path.of(args.length > 0 ? args[0] : "core/src/test/resources/golden"),
        java.util.Set.of(java.util.Arrays.copyOfRange(args, Math.min(1, args.length), args.length)));
  }
}
