package dev.selfbyt.cortexsdr.tensorflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CortexSdr;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
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

/** Damaged SavedModels: each refused with the file, the variable and the cause; no .cai left. */
class HostileSavedModelTest {
  @TempDir static Path tmp;
  static Path good;

  @BeforeAll
  static void writeModel() throws Exception {
    good = tmp.resolve("good");
    TinySavedModel.write(good);
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

  private static SavedModelFormatException refused(Path dir) {
    Path cai = tmp.resolve(dir.getFileName() + ".cai");
    SavedModelFormatException e = assertThrows(SavedModelFormatException.class, () -> {
      try (SavedModelReader r = SavedModelReader.open(dir)) {
        CortexSdr.compress(r, cai);
      }
    });
    assertFalse(Files.exists(cai), "no output after a failure");
    return e;
  }

  @Test
  void truncatedShardNamesTheShardAndAVariable() throws Exception {
    Path dir = copy("truncated");
    Path shard = dir.resolve("variables/variables.data-00000-of-00001");
    try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    SavedModelFormatException e = refused(dir);
    assertEquals(shard.toString(), e.file());
    assertTrue(e.tensor() != null && e.reason().startsWith("truncated"), e.getMessage());
  }

  @Test
  void missingShard() throws Exception {
    Path dir = copy("missing");
    Files.delete(dir.resolve("variables/variables.data-00000-of-00001"));
    SavedModelFormatException e = refused(dir);
    assertTrue(e.reason().startsWith("missing data shard 1 of 1"), e.getMessage());
  }

  @Test
  void flippedByteFailsItsChecksum() throws Exception {
    Path dir = copy("flipped");
    Path shard = dir.resolve("variables/variables.data-00000-of-00001");
    byte[] b = Files.readAllBytes(shard);
    b[b.length / 2] ^= 0x40;
    Files.write(shard, b);
    SavedModelFormatException e = refused(dir);
    assertTrue(e.reason().startsWith("checksum mismatch") && e.tensor() != null, e.getMessage());
  }

  @Test
  void shapeThatDisagreesWithTheGraph() throws Exception {
    Path dir = copy("shape");
    Path pb = dir.resolve("saved_model.pb");
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(pb));
    MetaGraphDef meta = sm.getMetaGraphs(0);
    GraphDef.Builder g = meta.getGraphDef().toBuilder();
    for (NodeDef.Builder n : g.getNodeBuilderList()) {
      if (n.getName().equals("dense")) {
        n.putAttr("shape", AttrValue.newBuilder().setShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(128)).addDim(TensorShapeProto.Dim.newBuilder().setSize(10)))
            .build());
      }
    }
    Files.write(pb, sm.toBuilder().setMetaGraphs(0, meta.toBuilder().setGraphDef(g)).build().toByteArray());
    SavedModelFormatException e = refused(dir);
    assertEquals("dense", e.tensor());
    assertTrue(e.reason().startsWith("shape mismatch: the checkpoint holds [256, 10], the graph (saved_model.pb) "
        + "declares [128, 10]"), e.getMessage());
  }

  @Test
  void damagedIndex() throws Exception {
    Path dir = copy("index");
    Path index = dir.resolve("variables/variables.index");
    byte[] b = Files.readAllBytes(index);
    b[10] ^= 0x01;
    Files.write(index, b);
    SavedModelFormatException e = refused(dir);
    assertEquals(index.toString(), e.file());
    assertTrue(e.reason().contains("checksum mismatch"), e.getMessage());
  }

  @Test
  void notASavedModel() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("empty"));
    assertTrue(refused(dir).reason().startsWith("not a SavedModel: no saved_model.pb"));
    Path junk = Files.createDirectories(tmp.resolve("junk"));
    Files.writeString(junk.resolve("saved_model.pb"), "hello, not a protobuf");
    assertTrue(refused(junk).reason().startsWith("not a SavedModel"), refused(junk).getMessage());
    Path file = Files.writeString(tmp.resolve("file.txt"), "x");
    assertTrue(refused(file).reason().startsWith("not a folder"));
  }

  @Test
  void tableReaderAndWriterAgreeOverManyBlocks() throws Exception {
    TableWriter w = new TableWriter();
    java.util.TreeMap<String, byte[]> want = new java.util.TreeMap<>();
    for (int i = 0; i < 3000; i++) {
      want.put(String.format("layer_%05d/kernel", i), new byte[200 + i % 7]);
    }
    want.forEach(w::add);
    var got = TableReader.read(w.finish());
    assertEquals(want.size(), got.size());
    assertEquals(want.firstKey(), got.get(0).key());
    assertEquals(want.lastKey(), got.get(got.size() - 1).key());
    assertEquals(200 + 2999 % 7, got.get(got.size() - 1).value().length);
  }
}
