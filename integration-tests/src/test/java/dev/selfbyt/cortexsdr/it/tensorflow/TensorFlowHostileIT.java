package dev.selfbyt.cortexsdr.it.tensorflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.it.models.MobyDick;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Damaged SavedModels and archives through {@code cortexsdr}: each is refused with exit code 1 and
 * one line naming the file, the variable and the cause, and leaves no output; and the command
 * without TensorFlow's native library on its class path (as the shaded jar ships) still
 * compresses and decompresses, and says that calibration falls back to plain rounding.
 */
class TensorFlowHostileIT {
  @TempDir static Path tmp;
  static Path good;

  @BeforeAll
  static void fixture() throws Exception {
    good = FashionMnistMlp.ensure(MobyDick.dataDir());
  }

  private static Path copy(String name) throws IOException {
    Path out = tmp.resolve(name);
    try (Stream<Path> s = Files.walk(good)) {
      for (Path p : s.sorted().toList()) {
        Path q = out.resolve(good.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q);
        }
      }
    }
    return out;
  }

  /** Compresses {@code dir}, expects exit 1 and no .cai; returns stderr. */
  private static String refused(Path dir) {
    Path cai = tmp.resolve(dir.getFileName() + ".cai");
    TensorFlowSavedModelIT.Run r = TensorFlowSavedModelIT.cli("compress", dir.toString(), "-o", cai.toString());
    assertEquals(1, r.code(), r.err());
    assertFalse(Files.exists(cai), "no output after a failure");
    assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(), s.filter(p -> p.getFileName().toString().contains(".tmp")).toList(), "no temp files");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return r.err();
  }

  @Test
  void truncatedShard() throws Exception {
    Path dir = copy("truncated");
    Path shard = dir.resolve("variables/variables.data-00000-of-00001");
    try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
      f.setLength(f.length() - 1000);
    }
    String err = refused(dir);
    assertTrue(err.startsWith("cortexsdr: " + shard + ": tensor '") && err.contains("truncated: the variable ends at byte "),
        err);
  }

  @Test
  void missingShard() throws Exception {
    Path dir = copy("missing");
    Path shard = dir.resolve("variables/variables.data-00000-of-00001");
    Files.delete(shard);
    String err = refused(dir);
    assertTrue(err.startsWith("cortexsdr: " + shard + ": tensor '") && err.contains("missing data shard 1 of 1"), err);
  }

  @Test
  void missingIndex() throws Exception {
    Path dir = copy("noindex");
    Files.delete(dir.resolve("variables/variables.index"));
    assertTrue(refused(dir).contains("variables/variables.index: missing"));
  }

  @Test
  void shapeMismatch() throws Exception {
    Path dir = copy("shape");
    Path pb = dir.resolve("saved_model.pb");
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(pb));
    MetaGraphDef meta = sm.getMetaGraphs(0);
    GraphDef.Builder g = meta.getGraphDef().toBuilder();
    for (NodeDef.Builder n : g.getNodeBuilderList()) {
      if (n.getOp().equals("VariableV2") && n.getAttrOrThrow("shape").getShape().getDimCount() == 2
          && n.getAttrOrThrow("shape").getShape().getDim(0).getSize() == 512) {
        n.putAttr("shape", AttrValue.newBuilder().setShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(256))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(512))).build());
      }
    }
    Files.write(pb, sm.toBuilder().setMetaGraphs(0, meta.toBuilder().setGraphDef(g)).build().toByteArray());
    String err = refused(dir);
    assertTrue(err.contains("tensor 'dense_1/kernel': shape mismatch: the checkpoint holds [512, 256], the graph "
        + "(saved_model.pb) declares [256, 512]"), err);
  }

  @Test
  void notASavedModel() throws Exception {
    Path folder = Files.createDirectories(tmp.resolve("photos"));
    Files.writeString(folder.resolve("readme.txt"), "holiday pictures");
    assertTrue(refused(folder).contains("is a folder without saved_model.pb"));
    Path junk = Files.createDirectories(tmp.resolve("junk"));
    Files.write(junk.resolve("saved_model.pb"), new byte[] {(byte) 0xff, (byte) 0xff, 1, 2, 3});
    assertTrue(refused(junk).contains("saved_model.pb: not a SavedModel protobuf"));
  }

  @Test
  void decompressNeverOverwritesOrLeavesHalfAFolder() throws Exception {
    Path cai = tmp.resolve("ok.cai");
    assertEquals(0, TensorFlowSavedModelIT.cli("compress", good.toString(), "-o", cai.toString()).code());
    Path existing = Files.createDirectories(tmp.resolve("existing"));
    Files.writeString(existing.resolve("keep.txt"), "mine");
    TensorFlowSavedModelIT.Run r = TensorFlowSavedModelIT.cli("decompress", cai.toString(), "-o", existing.toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains("already exists"), r.err());
    assertEquals(List.of(existing.resolve("keep.txt")), Files.list(existing).toList());
    // a truncated archive: refused by the .cai reader, no folder written
    Path cut = tmp.resolve("cut.cai");
    byte[] b = Files.readAllBytes(cai);
    Files.write(cut, Arrays.copyOf(b, b.length / 2));
    Path out = tmp.resolve("from-cut");
    r = TensorFlowSavedModelIT.cli("decompress", cut.toString(), "-o", out.toString());
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().contains(cut.toString()), r.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void withoutTheNativeLibraryCompressAndDecompressWorkAndCalibrationSaysItFallsBack() throws Exception {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> kept = Arrays.stream(cp.split(File.pathSeparator))
        .filter(e -> !e.matches(".*tensorflow-core-native-[^/]*-linux-x86_64\\.jar")).collect(Collectors.toList());
    assertEquals(cp.split(File.pathSeparator).length - 1, kept.size(), "the native jar was on the class path: " + cp);
    Path cai = tmp.resolve("nonative.cai");
    Path back = tmp.resolve("nonative-back");
    String calibrated = run(kept, "compress", good.toString(), "-o", cai.toString(), "--preset", "int4",
        "--calibrate", "random");
    assertTrue(calibrated.contains("warning: calibrating a SavedModel runs it in TensorFlow, whose native library "
        + "is not on the class path: add org.tensorflow:tensorflow-core-native:1.1.0:linux-x86_64 (160 MB); "
        + "compressing with uncalibrated rounding"), calibrated);
    run(kept, "decompress", cai.toString(), "-o", back.toString());
    assertArrayEquals(Files.readAllBytes(good.resolve("saved_model.pb")), Files.readAllBytes(back.resolve("saved_model.pb")));
  }

  /** Runs the command in a JVM on {@code classpath}; expects exit 0; returns its output. */
  private static String run(List<String> classpath, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", String.join(File.pathSeparator, classpath), "dev.selfbyt.cortexsdr.cli.CortexSdrCommand"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    return out;
  }
}
