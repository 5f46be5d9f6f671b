package dev.selfbyt.cortexsdr.converters.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** safetensors in, {@code .cai}, safetensors out: every dtype of the format, one file and shards. */
class SafetensorsRoundTripTest {
  @TempDir Path dir;

  /** A tensor for {@link #file}: name, dtype name, shape, bytes. */
  record T(String name, String dtype, long[] shape, byte[] data) {}

  /** A safetensors file as the format describes it, written here independently of the reader. */
  static byte[] file(Map<String, String> metadata, List<T> tensors) {
    StringBuilder h = new StringBuilder("{");
    if (metadata != null) {
      h.append("\"__metadata__\":{");
      int i = 0;
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        h.append(i++ > 0 ? "," : "").append('"').append(e.getKey()).append("\":\"").append(e.getValue()).append('"');
      }
      h.append("},");
    }
    long at = 0;
    for (int i = 0; i < tensors.size(); i++) {
      T t = tensors.get(i);
      h.append(i > 0 ? "," : "").append('"').append(t.name()).append("\":{\"dtype\":\"").append(t.dtype())
          .append("\",\"shape\":").append(java.util.Arrays.toString(t.shape()).replace(" ", ""))
          .append(",\"data_offsets\":[").append(at).append(',').append(at + t.data().length).append("]}");
      at += t.data().length;
    }
    h.append('}');
    while ((h.length() + 8) % 8 != 0) {
      h.append(' ');
    }
    byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hb.length).array());
    out.writeBytes(hb);
    for (T t : tensors) {
      out.writeBytes(t.data());
    }
    return out.toByteArray();
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static byte[] floats(int n, long seed) {
    Random r = new Random(seed);
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat((float) r.nextGaussian() * 0.05f);
    }
    return b.array();
  }

  /** One tensor of every dtype the format defines, as bytes of the right length. */
  static List<T> everyDType() {
    List<T> ts = new java.util.ArrayList<>();
    int seed = 0;
    for (SafetensorsDType d : SafetensorsDType.values()) {
      long[] shape = d.bits() < 8 ? new long[] {4, 8} : new long[] {3, 5};
      int bytes = (int) (shape[0] * shape[1] * d.bits() / 8);
      ts.add(new T("t_" + d.name().toLowerCase(java.util.Locale.ROOT), d.name(), shape, random(bytes, seed++)));
    }
    return ts;
  }

  @Test
  void everyDTypeAndTheMetadataComeBackByteForByte() throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("note", "kept");
    List<T> ts = new java.util.ArrayList<>(everyDType());
    ts.add(new T("encoder.layer.0.dense.weight", "F32", new long[] {64, 96}, floats(64 * 96, 7)));
    ts.add(new T("encoder.layer.0.dense.bias", "F32", new long[] {64}, floats(64, 8)));
    ts.add(new T("scalar", "F32", new long[] {}, floats(1, 9)));
    ts.add(new T("empty", "F16", new long[] {0, 4}, new byte[0]));
    Path in = dir.resolve("model.safetensors");
    Files.write(in, file(meta, ts));
    Path cai = dir.resolve("model.cai");
    try (SafetensorsReader st = SafetensorsReader.open(in)) {
      assertEquals(meta, st.metadata());
      CortexSdr.compress(st, cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    Path out = dir.resolve("back.safetensors");
    try (CaiReader r = CaiReader.open(cai)) {
      TensorInfo dense = r.entry("encoder.layer.0.dense.weight").info();
      assertEquals(TensorRole.MATMUL_WEIGHT, dense.role());
      assertEquals(1, dense.reductionAxis(), "PyTorch's Linear is [out, in]: the sum runs over the last axis");
      assertEquals(TensorRole.BIAS, r.entry("encoder.layer.0.dense.bias").info().role());
      assertEquals(List.of(out), SafetensorsWriter.write(r, out));
    }
    assertArrayEquals(Files.readAllBytes(in), Files.readAllBytes(out));
  }

  @Test
  void aQuantizedArchiveWritesTheSameLayoutWithDecodedValues() throws IOException {
    byte[] w = floats(128 * 256, 1);
    Path in = dir.resolve("m.safetensors");
    Files.write(in, file(null, List.of(new T("fc.weight", "F32", new long[] {128, 256}, w))));
    Path cai = dir.resolve("m.cai");
    try (SafetensorsReader st = SafetensorsReader.open(in)) {
      CortexSdr.compress(st, cai, CompressionOptions.builder().preset(Preset.INT8).build());
    }
    Path out = dir.resolve("m2.safetensors");
    try (CaiReader r = CaiReader.open(cai)) {
      SafetensorsWriter.write(r, out);
    }
    byte[] a = Files.readAllBytes(in);
    byte[] b = Files.readAllBytes(out);
    assertEquals(a.length, b.length);
    FloatArrays fa = new FloatArrays(a, b, a.length - w.length);
    assertTrue(fa.nmse() > 0 && fa.nmse() < 1e-3, "int8 NMSE " + fa.nmse());
  }

  private record FloatArrays(byte[] a, byte[] b, int start) {
    double nmse() {
      ByteBuffer x = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer y = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
      double err = 0;
      double sig = 0;
      for (int i = start; i + 4 <= a.length; i += 4) {
        double d = x.getFloat(i) - y.getFloat(i);
        err += d * d;
        sig += x.getFloat(i) * (double) x.getFloat(i);
      }
      return err / sig;
    }
  }

  @Test
  void aShardedSetComesBackAsItsIndexAndShards() throws IOException {
    Path sub = Files.createDirectory(dir.resolve("in"));
    Files.write(sub.resolve("model-00001-of-00002.safetensors"), file(Map.of("format", "pt"),
        List.of(new T("a.weight", "BF16", new long[] {32, 64}, random(32 * 64 * 2, 3)))));
    Files.write(sub.resolve("model-00002-of-00002.safetensors"), file(Map.of("format", "pt"),
        List.of(new T("b.weight", "F16", new long[] {16, 64}, random(16 * 64 * 2, 4)),
            new T("b.bias", "F16", new long[] {16}, random(32, 5)))));
    String index = "{\"metadata\":{\"total_size\":6176},\"weight_map\":{\"a.weight\":\"model-00001-of-00002.safetensors\","
        + "\"b.bias\":\"model-00002-of-00002.safetensors\",\"b.weight\":\"model-00002-of-00002.safetensors\"}}\n";
    Files.writeString(sub.resolve("model.safetensors.index.json"), index);
    Path cai = dir.resolve("s.cai");
    try (SafetensorsReader st = SafetensorsReader.open(sub.resolve("model.safetensors.index.json"))) {
      assertTrue(st.sharded());
      assertEquals(3, st.tensors().size());
      CortexSdr.compress(st, cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    Path outDir = Files.createDirectory(dir.resolve("out"));
    try (CaiReader r = CaiReader.open(cai)) {
      assertEquals(3, SafetensorsWriter.write(r, outDir.resolve("model.safetensors.index.json")).size());
    }
    for (String f : List.of("model.safetensors.index.json", "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors")) {
      assertArrayEquals(Files.readAllBytes(sub.resolve(f)), Files.readAllBytes(outDir.resolve(f)), f);
    }
  }

  @Test
  void aMissingShardIsNamed() throws IOException {
    Files.writeString(dir.resolve("model.safetensors.index.json"),
        "{\"weight_map\":{\"a.weight\":\"model-00001-of-00002.safetensors\"}}");
    SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
        () -> SafetensorsReader.open(dir.resolve("model.safetensors.index.json")));
    assertTrue(e.getMessage().contains("shard model-00001-of-00002.safetensors is missing"), e.getMessage());
    Files.writeString(dir.resolve("evil.json"), "{\"weight_map\":{\"a\":\"../../etc/passwd\"}}");
    e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(dir.resolve("evil.json")));
    assertTrue(e.getMessage().contains("paths are refused"), e.getMessage());
  }
}
