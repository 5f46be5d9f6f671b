package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.format.WriterTempFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a {@code .cai} made from an ONNX model back out as a standard {@code .onnx} file that any
 * ONNX Runtime loads: the stored graph with every weight decoded into its original dtype. The
 * file is written to a temporary file beside the target and renamed, so a failure leaves nothing.
 *
 * <pre>{@code
 * try (CaiReader cai = CaiReader.open(Path.of("model.cai"))) {
 *   OnnxExporter.exportDecoded(cai, Path.of("model.decoded.onnx"));
 * }
 * }</pre>
 */
public final class OnnxExporter {
  private OnnxExporter() {}

  /**
   * Rebuilds the ONNX model with decoded weights.
   *
   * @throws CaiException if the archive was not made from ONNX, disagrees with its graph ({@link
   *     StoredGraphCheck}: a weight missing, of another shape or role), a weight does not decode,
   *     or the target cannot be written
   */
  public static void exportDecoded(CaiReader cai, Path target) throws IOException {
    ModelProto model = storedModel(cai);
    StoredGraphCheck.check(cai); // a weight missing from the archive would be written out empty
    write(withWeights(model, name -> cai.contains(name) ? cai.read(name).bytes() : null), target);
  }

  /** Where a weight's little-endian bytes come from; null leaves the tensor as it is. */
  @FunctionalInterface
  public interface WeightData {
    ByteBuffer get(String name) throws IOException;
  }

  /**
   * A stripped model (see {@link OnnxModelReader#graph()}) with weight data put back into its
   * initializers and {@code Constant} nodes (named by their output), in subgraphs too: {@code
   * data} is asked for each weight by the name it is stored under ({@link GraphWeights}), and
   * every weight goes back where it was.
   */
  public static ModelProto withWeights(ModelProto model, WeightData data) throws IOException {
    GraphProto g = model.getGraph();
    GraphWeights weights = GraphWeights.of("model", g);
    GraphProto filled = weights.rebuild(g, w -> {
      ByteBuffer b = data.get(w.name()); // tensors that are no weights (strings) stay as they are
      return b == null ? null : w.tensor().toBuilder().setRawData(ByteString.copyFrom(b)).build();
    });
    return model.toBuilder().setGraph(filled).build();
  }

  /** The ONNX model stored in a {@code .cai} graph segment (weights stripped). */
  public static ModelProto storedModel(CaiReader cai) throws CaiException {
    Object src = cai.manifest().get("source");
    Object format = src instanceof Map<?, ?> m ? m.get("format") : null;
    if (!"onnx".equals(format)) {
      throw new CaiException(cai.path().toString(), null, "was made from " + (format == null ? "an unknown format"
          : "a " + format + " model") + ", not ONNX: it cannot be exported as ONNX");
    }
    try {
      return ModelProto.parseFrom(cai.graph());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new CaiException(cai.path().toString(), null, "graph segment is not an ONNX model: " + e.getMessage(), e);
    }
  }

  /** Writes a model to a temp file beside {@code target}, then renames it. */
  public static void write(ModelProto model, Path target) throws IOException {
    long size = model.getSerializedSize();
    if (size > Integer.MAX_VALUE - 1024) {
      throw new CaiException(target.toString(), null, "the model is " + size
          + " bytes, over protobuf's 2 GiB limit: external-data export is not implemented yet");
    }
    Path abs = target.toAbsolutePath();
    Path temp;
    if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
      throw new CaiException(target.toString(), null, "cannot write here: folder " + abs.getParent() + " does not exist");
    }
    WriterTempFiles.Held held;
    try {
      // the same temporary files as CaiWriter's: locked while written, leftovers of killed writers
      // removed, and the mode the umask gives (not createTempFile's 0600)
      held = WriterTempFiles.create(abs);
      temp = held.path();
    } catch (IOException e) {
      throw new CaiException(target.toString(), null, "cannot write here: folder " + abs.getParent()
          + " is not writable (" + e.getClass().getSimpleName() + ")", e);
    }
    try {
      try (OutputStream out = java.nio.channels.Channels.newOutputStream(held.channel())) {
        CodedOutputStream c = CodedOutputStream.newInstance(out, 1 << 16);
        model.writeTo(c);
        c.flush();
      }
      CaiWriter.moveIntoPlace(temp, target);
      WriterTempFiles.release(temp);
    } catch (IOException | RuntimeException e) {
      held.channel().close();
      Files.deleteIfExists(temp);
      WriterTempFiles.release(temp);
      throw e instanceof CaiException c ? c : new CaiException(target.toString(), null, "write failed: " + e, e);
    }
  }
}
