package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an ONNX model as a {@link TensorSource}: every weight of the model, from initializers
 * and from {@code Constant} nodes (named by the node's output), stored inline or in external-data
 * files beside the model, in the main graph and in control-flow subgraphs ({@code If} branches,
 * {@code Loop} and {@code Scan} bodies, at any depth; a subgraph weight is named by its path, see
 * {@link GraphWeights}). Each weight gets its {@link TensorRole} and reduction axis from the nodes
 * that consume it, in whatever graph they sit, so the policy quantizes MatMul weights along K,
 * Conv weights along input channels and Gather tables row by row. {@link #graph()} is the model with
 * all weight data stripped; {@link OnnxExporter} puts weights back into it.
 *
 * <pre>{@code
 * try (OnnxModelReader onnx = OnnxModelReader.open(Path.of("model.onnx"))) {
 *   CortexSdr.compress(onnx, Path.of("model.cai"), options);
 * }
 * }</pre>
 */
public final class OnnxModelReader implements TensorSource {
  private final Path path;
  private final ModelProto stripped;
  private final List<TensorInfo> tensors = new ArrayList<>();
  private final Map<String, TensorProto> protos = new HashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  private OnnxModelReader(Path path, ModelProto model) throws IOException {
    this.path = path;
    GraphProto g = model.getGraph();
    GraphWeights weights = GraphWeights.of(path.toString(), g);
    for (GraphWeights.Weight w : weights.weights()) {
      add(w.name(), w.tensor(), weights);
    }
    GraphProto gb = weights.rebuild(g, w -> strip(w.tensor()));
    this.stripped = model.toBuilder().setGraph(gb).build();
    metadata.put("irVersion", Long.toString(model.getIrVersion()));
    for (OperatorSetIdProto op : model.getOpsetImportList()) {
      metadata.put("opset" + (op.getDomain().isEmpty() ? "" : ":" + op.getDomain()), Long.toString(op.getVersion()));
    }
    if (!model.getProducerName().isEmpty()) {
      metadata.put("producer", model.getProducerName() + " " + model.getProducerVersion());
    }
    metadata.put("graph", g.getName());
    // what cortexsdr itself changed in the model before compressing it (HadamardRotation)
    model.getMetadataPropsList().stream().filter(p -> p.getKey().startsWith("cortexsdr_"))
        .forEach(p -> metadata.put(p.getKey(), p.getValue()));
  }

  /**
   * Opens and indexes an ONNX model.
   *
   * @throws OnnxFormatException if it is not a readable ONNX model, holds a tensor of an
   *     unsupported type, or refers to a missing external-data file
   */
  public static OnnxModelReader open(Path path) throws IOException {
    ModelProto model;
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      CodedInputStream cin;
      if (ch.size() <= Integer.MAX_VALUE) {
        // weights stay in the mapped file: raw_data fields alias it instead of being copied onto
        // the heap (parsing MiniLM went from 70-200 ms to 5 ms, and the heap no longer holds the model)
        cin = UnsafeByteOperations.unsafeWrap(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size())).newCodedInput();
        cin.enableAliasing(true);
      } else { // past protobuf's 2 GiB: the parser names the problem
        cin = CodedInputStream.newInstance(Channels.newInputStream(ch));
      }
      cin.setSizeLimit(Integer.MAX_VALUE);
      model = ModelProto.parseFrom(cin);
    } catch (NoSuchFileException e) {
      throw new OnnxFormatException(path.toString(), null, "no such file");
    } catch (InvalidProtocolBufferException e) {
      throw new OnnxFormatException(path.toString(), null,
          "not a readable ONNX model (" + e.getMessage() + "); is the file complete?", e);
    } catch (IOException e) {
      throw new OnnxFormatException(path.toString(), null, "cannot read: " + e, e);
    }
    if (!model.hasGraph() || model.getIrVersion() <= 0 || model.getGraph().getNodeCount() == 0) {
      throw new OnnxFormatException(path.toString(), null,
          "not an ONNX model (no ir_version or no graph nodes)");
    }
    return new OnnxModelReader(path, model);
  }

  private void add(String name, TensorProto t, GraphWeights uses) throws OnnxFormatException {
    TensorInfo info = weightInfo(path.toString(), name, t, uses.use(name));
    if (protos.containsKey(name)) {
      throw new OnnxFormatException(path.toString(), name, "two weights share this name");
    }
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      Path file = externalFile(name, t);
      if (!Files.isRegularFile(file)) {
        throw new OnnxFormatException(path.toString(), name, "external data file " + file + " is missing");
      }
    }
    tensors.add(info);
    protos.put(name, t);
  }

  /**
   * The {@link TensorInfo} this reader gives a weight: its dtype and shape, and the role and
   * reduction axis its consumers in the graph imply.
   */
  private static TensorInfo weightInfo(String file, String name, TensorProto t, GraphWeights.Use use)
      throws OnnxFormatException {
    long[] shape = new long[t.getDimsCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.getDims(i);
      if (shape[i] < 0) {
        throw new OnnxFormatException(file, name, "negative dimension " + shape[i]);
      }
    }
    DType dtype = OnnxDTypes.toDType(t.getDataType());
    if (dtype == null && !OnnxDTypes.isPacked4Bit(t.getDataType())) {
      throw new OnnxFormatException(file, name, "element type " + OnnxDTypes.name(t.getDataType())
          + " is not known to CortexSDR");
    }
    TensorInfo declared = new TensorInfo(name, dtype == null ? DType.UINT8 : dtype, shape, TensorRole.OTHER, -1);
    if (!declared.hasExactByteSize()) {
      throw new OnnxFormatException(file, name, "shape " + java.util.Arrays.toString(shape) + " of "
          + OnnxDTypes.name(t.getDataType()) + " overflows: its byte size does not fit 63 bits");
    }
    if (OnnxDTypes.isPacked4Bit(t.getDataType())) {
      // int4, uint4, float4: two per byte; stored losslessly as their packed bytes, the graph
      // keeps the real type and shape
      dtype = DType.UINT8;
      long n = declared.numel();
      shape = new long[] {n / 2 + (n & 1)}; // (n + 1) / 2 without overflow at Long.MAX_VALUE
      use = GraphWeights.Use.OTHER;
    }
    if (use == GraphWeights.Use.BIAS && shape.length >= 2) {
      use = GraphWeights.Use.OTHER; // added to activations, but a table, not a bias
    }
    return new TensorInfo(name, dtype, shape, use.role(), use.axis(shape.length));
  }

  /**
   * Every weight of {@code g} at every depth (initializers and {@code Constant} values, strings
   * excepted; subgraph weights under their scoped names, see {@link GraphWeights}) with the info
   * this reader gives it, in graph order; {@link StoredGraphCheck} compares a {@code .cai}'s
   * directory with it.
   */
  static Map<String, TensorInfo> weightInfos(String file, GraphWeights weights) throws OnnxFormatException {
    Map<String, TensorInfo> out = new LinkedHashMap<>();
    for (GraphWeights.Weight w : weights.weights()) {
      out.put(w.name(), weightInfo(file, w.name(), w.tensor(), weights.use(w.name())));
    }
    return out;
  }

  /**
   * The info files written before subgraph support gave a main-graph weight: roles from the main
   * graph's own nodes only.
   */
  static TensorInfo mainGraphInfo(String file, GraphWeights weights, String name) throws OnnxFormatException {
    GraphWeights.Weight w = weights.get(name);
    return weightInfo(file, name, w.tensor(), weights.mainGraphUse(name));
  }

  private Path externalFile(String name, TensorProto t) throws OnnxFormatException {
    String location = external(t, "location");
    if (location == null) {
      throw new OnnxFormatException(path.toString(), name, "external data without a location");
    }
    Path base = path.toAbsolutePath().getParent();
    Path file;
    try {
      file = base.resolve(location).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      throw new OnnxFormatException(path.toString(), name, "external data location is not a valid path: "
          + e.getReason());
    }
    if (!file.startsWith(base)) {
      throw new OnnxFormatException(path.toString(), name, "external data location " + location
          + " points outside the model's folder");
    }
    if (Files.exists(file)) {
      // the lexical check above misses symbolic links: compare real paths, links followed
      try {
        Path realBase = base.toRealPath();
        Path real = file.toRealPath();
        if (!real.startsWith(realBase)) {
          throw new OnnxFormatException(path.toString(), name, "external data location " + location
              + " leads through a symbolic link to " + real + ", outside the model's folder " + realBase);
        }
        return real; // read what was checked
      } catch (OnnxFormatException e) {
        throw e;
      } catch (IOException e) {
        throw new OnnxFormatException(path.toString(), name, "cannot resolve external data location " + location
            + ": " + e, e);
      }
    }
    return file;
  }

  private static String external(TensorProto t, String key) {
    for (StringStringEntryProto e : t.getExternalDataList()) {
      if (e.getKey().equals(key)) {
        return e.getValue();
      }
    }
    return null;
  }

  /** A tensor's metadata with every data field cleared. */
  private static TensorProto strip(TensorProto t) {
    return t.toBuilder()
        .clearRawData()
        .clearFloatData()
        .clearDoubleData()
        .clearInt32Data()
        .clearInt64Data()
        .clearUint64Data()
        .clearStringData()
        .clearExternalData()
        .clearDataLocation()
        .build();
  }

  @Override
  public String format() {
    return "onnx";
  }

  @Override
  public String location() {
    return path.toString();
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public byte[] graph() {
    return stripped.toByteArray();
  }

  /** The model with weight data stripped. */
  public ModelProto strippedModel() {
    return stripped;
  }

  @Override
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors);
  }

  @Override
  public TensorData read(TensorInfo info) throws IOException {
    TensorProto t = protos.get(info.name());
    if (t == null) {
      throw new OnnxFormatException(path.toString(), info.name(), "no such weight in this model");
    }
    long bytes = info.byteSize();
    if (bytes > Integer.MAX_VALUE - 16) {
      throw new OnnxFormatException(path.toString(), info.name(), "tensor of " + bytes + " bytes; at most 2 GiB per tensor");
    }
    ByteBuffer data;
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      data = readExternal(info, t, (int) bytes);
    } else if (!t.getRawData().isEmpty()) {
      data = t.getRawData().asReadOnlyByteBuffer();
    } else if (OnnxDTypes.isPacked4Bit(t.getDataType())) {
      throw new OnnxFormatException(path.toString(), info.name(), "4-bit values in int32_data are not supported; "
          + "save the model with raw_data");
    } else {
      data = typedData(info, t);
    }
    if (data.remaining() != bytes) {
      throw new OnnxFormatException(path.toString(), info.name(), "holds " + data.remaining()
          + " bytes of data; " + info.dtype() + " " + java.util.Arrays.toString(info.shape()) + " needs " + bytes);
    }
    return TensorData.ofBytes(info, data.order(ByteOrder.LITTLE_ENDIAN));
  }

  private ByteBuffer readExternal(TensorInfo info, TensorProto t, int bytes) throws IOException {
    Path file = externalFile(info.name(), t);
    String off = external(t, "offset");
    String len = external(t, "length");
    long offset;
    long length;
    try {
      offset = off == null ? 0 : Long.parseLong(off);
      length = len == null ? bytes : Long.parseLong(len);
    } catch (NumberFormatException e) {
      throw new OnnxFormatException(path.toString(), info.name(), "bad external data offset or length");
    }
    if (length != bytes) {
      throw new OnnxFormatException(path.toString(), info.name(), "external data length " + length + ", shape needs " + bytes);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      if (offset < 0 || offset > ch.size() - length) { // no offset + length: it may overflow
        throw new OnnxFormatException(path.toString(), info.name(), "external data " + file + " ends before "
            + (offset + length) + " (it has " + ch.size() + " bytes)");
      }
      ByteBuffer b = ByteBuffer.allocate(bytes);
      while (b.hasRemaining()) {
        if (ch.read(b, offset + b.position()) < 0) {
          throw new OnnxFormatException(path.toString(), info.name(), "external data " + file + " is truncated");
        }
      }
      return b.flip();
    } catch (NoSuchFileException e) {
      throw new OnnxFormatException(path.toString(), info.name(), "external data file " + file + " is missing");
    }
  }

  /** Values stored in the typed repeated fields, as little-endian bytes of the tensor's dtype. */
  private ByteBuffer typedData(TensorInfo info, TensorProto t) throws OnnxFormatException {
    int n = (int) info.numel();
    long present = typedCount(info.dtype(), t);
    if (present != n) {
      // before allocating: a shape with no data behind it must not cost its declared size
      throw new OnnxFormatException(path.toString(), info.name(), "holds " + present + " values; shape "
          + java.util.Arrays.toString(info.shape()) + " needs " + n);
    }
    ByteBuffer b = ByteBuffer.allocate((int) info.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    int have;
    switch (info.dtype()) {
      case FLOAT32 -> {
        have = t.getFloatDataCount();
        for (int i = 0; i < Math.min(n, have); i++) {
          b.putFloat(t.getFloatData(i));
        }
      }
      case COMPLEX64 -> {
        have = t.getFloatDataCount() / 2;
        for (int i = 0; i < Math.min(2 * n, t.getFloatDataCount()); i++) {
          b.putFloat(t.getFloatData(i));
        }
      }
      case FLOAT64 -> {
        have = t.getDoubleDataCount();
        for (int i = 0; i < Math.min(n, have); i++) {
          b.putDouble(t.getDoubleData(i));
        }
      }
      case COMPLEX128 -> {
        have = t.getDoubleDataCount() / 2;
        for (int i = 0; i < Math.min(2 * n, t.getDoubleDataCount()); i++) {
          b.putDouble(t.getDoubleData(i));
        }
      }
      case INT64 -> {
        have = t.getInt64DataCount();
        for (int i = 0; i < Math.min(n, have); i++) {
          b.putLong(t.getInt64Data(i));
        }
      }
      case UINT32, UINT64 -> {
        have = t.getUint64DataCount();
        for (int i = 0; i < Math.min(n, have); i++) {
          long v = t.getUint64Data(i);
          if (info.dtype() == DType.UINT32) {
            b.putInt((int) v);
          } else {
            b.putLong(v);
          }
        }
      }
      default -> { // every other type lives in int32_data, one element per entry
        have = t.getInt32DataCount();
        int size = info.dtype().size();
        for (int i = 0; i < Math.min(n, have); i++) {
          int v = t.getInt32Data(i);
          switch (size) {
            case 1 -> b.put((byte) v);
            case 2 -> b.putShort((short) v);
            default -> b.putInt(v);
          }
        }
      }
    }
    if (have != n) {
      throw new OnnxFormatException(path.toString(), info.name(), "holds " + have + " values; shape "
          + java.util.Arrays.toString(info.shape()) + " needs " + n);
    }
    return b.flip();
  }

  /** Elements present in the typed repeated field that holds values of {@code dtype}. */
  private static long typedCount(DType dtype, TensorProto t) {
    return switch (dtype) {
      case FLOAT32 -> t.getFloatDataCount();
      case COMPLEX64 -> t.getFloatDataCount() / 2;
      case FLOAT64 -> t.getDoubleDataCount();
      case COMPLEX128 -> t.getDoubleDataCount() / 2;
      case INT64 -> t.getInt64DataCount();
      case UINT32, UINT64 -> t.getUint64DataCount();
      default -> t.getInt32DataCount();
    };
  }

  @Override
  public void close() {}
}
