package dev.selfbyt.cortexsdr.tensorflow;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A TensorFlow SavedModel folder as a {@link TensorSource}: one tensor per variable of its
 * {@code variables/} checkpoint, read straight from the data shards (no native code), with the
 * role and reduction axis {@link VariableRoles} finds in the MetaGraph; the graph segment is the
 * folder's {@link SavedModelSkeleton}. Open one with {@link #open(Path)}:
 *
 * <pre>{@code
 * try (SavedModelReader model = SavedModelReader.open(Path.of("saved_model_dir"))) {
 *   CortexSdr.compress(model, Path.of("model.cai"), CompressionOptions.builder().preset(Preset.INT8).build());
 * }
 * }</pre>
 *
 * <p>Everything that can be checked without reading the values is checked when opening, so that a
 * compress fails before it writes: {@code saved_model.pb} parses, the index is intact, every
 * shard exists and is long enough for the entries that point into it, and each variable's shape
 * agrees with the shape its op declares in the graph. Values are checked against their CRC32C
 * when read.
 */
public final class SavedModelReader implements TensorSource {
  /** Source format name stored in the manifest. */
  public static final String FORMAT = "tensorflow-savedmodel";
  /** The metagraph whose graph gives the roles when the file has several. */
  public static final String SERVE_TAG = "serve";
  /** Other files of the folder kept in the skeleton: up to this many bytes in all. */
  static final long MAX_OTHER_FILES_BYTES = 512L << 20;

  private final Path dir;
  private final Path index;
  private final SavedModelSkeleton skeleton;
  private final List<TensorInfo> tensors = new ArrayList<>();
  private final Map<String, TensorInfo> byName = new java.util.HashMap<>();
  private final Map<String, String> metadata = new TreeMap<>();
  private final MetaGraphDef meta;
  private final Map<String, VariableRoles.Use> uses;

  private SavedModelReader(Path dir, Path index, SavedModelSkeleton skeleton, MetaGraphDef meta) throws IOException {
    this.dir = dir;
    this.index = index;
    this.skeleton = skeleton;
    this.meta = meta;
    metadata.put("tags", String.join(",", meta.getMetaInfoDef().getTagsList()));
    metadata.put("signatures", String.join(",", new java.util.TreeSet<>(meta.getSignatureDefMap().keySet())));
    if (!meta.getMetaInfoDef().getTensorflowVersion().isEmpty()) {
      metadata.put("tensorflowVersion", meta.getMetaInfoDef().getTensorflowVersion());
    }
    this.uses = VariableRoles.of(meta.getGraphDef(), skeleton.entries().keySet());
    for (Map.Entry<String, BundleEntryProto> e : skeleton.entries().entrySet()) {
      TensorInfo t = info(e.getKey(), e.getValue(), uses.getOrDefault(e.getKey(), VariableRoles.Use.UNKNOWN));
      tensors.add(t);
      byName.put(t.name(), t);
    }
    checkShards();
  }

  /**
   * Opens the SavedModel in folder {@code dir}.
   *
   * @throws SavedModelFormatException naming the file, variable and cause when it is not a
   *     readable SavedModel
   */
  public static SavedModelReader open(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      throw new SavedModelFormatException(dir.toString(), null, "no such folder");
    }
    if (!Files.isDirectory(dir)) {
      throw new SavedModelFormatException(dir.toString(), null, "not a folder: a SavedModel is a folder with "
          + "saved_model.pb and variables/");
    }
    Path pb = dir.resolve(SavedModelSkeleton.SAVED_MODEL_PB);
    if (!Files.isRegularFile(pb)) {
      String hint = Files.exists(dir.resolve("saved_model.pbtxt")) ? " (it has saved_model.pbtxt: text SavedModels "
          + "are not read; save it in binary form)" : "";
      throw new SavedModelFormatException(dir.toString(), null, "not a SavedModel: no saved_model.pb in the folder"
          + hint);
    }
    SavedModel sm;
    try {
      sm = SavedModel.parseFrom(Files.readAllBytes(pb));
    } catch (InvalidProtocolBufferException e) {
      throw new SavedModelFormatException(pb.toString(), null, "not a SavedModel protobuf: " + e.getMessage(), e);
    }
    if (sm.getMetaGraphsCount() == 0) {
      throw new SavedModelFormatException(pb.toString(), null, "not a SavedModel: it holds no MetaGraph");
    }
    MetaGraphDef meta = sm.getMetaGraphs(0);
    for (MetaGraphDef m : sm.getMetaGraphsList()) {
      if (m.getMetaInfoDef().getTagsList().contains(SERVE_TAG)) {
        meta = m;
        break;
      }
    }
    Path index = dir.resolve("variables").resolve("variables.index");
    CheckpointIndex checkpoint = CheckpointIndex.read(index);
    Map<String, byte[]> files = otherFiles(dir);
    return new SavedModelReader(dir, index, new SavedModelSkeleton(files, checkpoint.header(), checkpoint.entries()),
        meta);
  }

  /** The folder's files other than the checkpoint's, by relative path, in a stable order. */
  private static Map<String, byte[]> otherFiles(Path dir) throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    List<Path> paths;
    try (Stream<Path> s = Files.walk(dir)) {
      paths = s.filter(Files::isRegularFile).sorted().toList();
    }
    long total = 0;
    for (Path p : paths) {
      String rel = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
      if (rel.startsWith("variables/variables.")) {
        continue;
      }
      total += Files.size(p);
      if (total > MAX_OTHER_FILES_BYTES) {
        throw new SavedModelFormatException(p.toString(), null, "the SavedModel's files other than its variables "
            + "pass " + MAX_OTHER_FILES_BYTES + " bytes; they are kept whole in the .cai graph segment");
      }
      files.put(rel, Files.readAllBytes(p));
    }
    return files;
  }

  private TensorInfo info(String key, BundleEntryProto e, VariableRoles.Use use) throws SavedModelFormatException {
    long[] shape = shape(key, e.getShape());
    DType dtype = TfDTypes.of(e.getDtype());
    if (use.declaredShape() != null && !Arrays.equals(use.declaredShape(), shape)) {
      throw new SavedModelFormatException(index.toString(), key, "shape mismatch: the checkpoint holds "
          + Arrays.toString(shape) + ", the graph (saved_model.pb) declares " + Arrays.toString(use.declaredShape()));
    }
    if (dtype == null) { // kept as its bytes
      return new TensorInfo(key, DType.UINT8, new long[] {e.getSize()}, TensorRole.OTHER, -1);
    }
    TensorInfo info = new TensorInfo(key, dtype, shape, use.role(), use.axis());
    if (!info.hasExactByteSize() || info.byteSize() != e.getSize()) {
      throw new SavedModelFormatException(index.toString(), key, "the entry says " + e.getSize() + " bytes, but "
          + "shape " + Arrays.toString(shape) + " of " + dtype + " needs " + (info.hasExactByteSize()
          ? info.byteSize() + "" : "more than 2^63"));
    }
    return info;
  }

  private long[] shape(String key, TensorShapeProto s) throws SavedModelFormatException {
    long[] out = new long[s.getDimCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = s.getDim(i).getSize();
      if (out[i] < 0) {
        throw new SavedModelFormatException(index.toString(), key, "negative dimension in shape " + s);
      }
    }
    return out;
  }

  private void checkShards() throws SavedModelFormatException {
    int count = skeleton.header().getNumShards();
    long[] needed = new long[count];
    String[] last = new String[count];
    for (Map.Entry<String, BundleEntryProto> e : skeleton.entries().entrySet()) {
      BundleEntryProto p = e.getValue();
      long end = p.getOffset() + p.getSize();
      if (end > needed[p.getShardId()]) {
        needed[p.getShardId()] = end;
        last[p.getShardId()] = e.getKey();
      }
    }
    for (int i = 0; i < count; i++) {
      Path shard = CheckpointIndex.shard(index, i, count);
      if (last[i] == null) {
        continue;
      }
      if (!Files.isRegularFile(shard)) {
        throw new SavedModelFormatException(shard.toString(), last[i], "missing data shard " + (i + 1) + " of " + count
            + ": the index points into it");
      }
      long size;
      try {
        size = Files.size(shard);
      } catch (IOException x) {
        throw new SavedModelFormatException(shard.toString(), last[i], "cannot be read: " + x.getMessage(), x);
      }
      if (size < needed[i]) {
        throw new SavedModelFormatException(shard.toString(), last[i], "truncated: the variable ends at byte "
            + needed[i] + ", the file has " + size + " bytes");
      }
    }
  }

  /** The metagraph the roles come from (tagged {@code serve}, else the first). */
  MetaGraphDef metaGraph() {
    return meta;
  }

  /** What the graph does with variable {@code key}. */
  VariableRoles.Use use(String key) {
    return uses.getOrDefault(key, VariableRoles.Use.UNKNOWN);
  }

  /** The SavedModel folder. */
  public Path folder() {
    return dir;
  }

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public String location() {
    return dir.toString();
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public byte[] graph() {
    return skeleton.encode();
  }

  @Override
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors);
  }

  @Override
  public TensorData read(TensorInfo tensor) throws IOException {
    BundleEntryProto e = skeleton.entries().get(tensor.name());
    if (e == null) {
      throw new SavedModelFormatException(index.toString(), tensor.name(), "no such variable in the checkpoint");
    }
    int count = skeleton.header().getNumShards();
    Path shard = CheckpointIndex.shard(index, e.getShardId(), count);
    if (e.getSize() > Integer.MAX_VALUE - 16) {
      throw new SavedModelFormatException(shard.toString(), tensor.name(), e.getSize() + " bytes, more than one "
          + "tensor of a .cai holds");
    }
    ByteBuffer b = ByteBuffer.allocate((int) e.getSize());
    try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
      long pos = e.getOffset();
      while (b.hasRemaining()) {
        int n = ch.read(b, pos);
        if (n < 0) {
          throw new SavedModelFormatException(shard.toString(), tensor.name(), "truncated: the variable ends at byte "
              + (e.getOffset() + e.getSize()) + ", the file has " + ch.size() + " bytes");
        }
        pos += n;
      }
    } catch (java.nio.file.NoSuchFileException x) {
      throw new SavedModelFormatException(shard.toString(), tensor.name(), "missing data shard", x);
    }
    b.flip();
    if (TableReader.maskedCrc(b) != e.getCrc32C()) {
      throw new SavedModelFormatException(shard.toString(), tensor.name(), "checksum mismatch: the bytes at offset "
          + e.getOffset() + " are not what the index recorded (damaged shard)");
    }
    return TensorData.ofBytes(byName.get(tensor.name()), b);
  }
}
