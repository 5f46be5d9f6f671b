package dev.selfbyt.cortexsdr.it.fuzz;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.InMemoryTensorSource;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The valid files the fuzz targets start from, made by today's code from fixed random numbers:
 * small {@code .cai} files covering every codec and option family (raw plain and shuffled, RLE,
 * quant 2-8 bits per tensor / channel / block, symmetric or not, fp32 scales, SDR with delta,
 * bitmap and u32 positions and fp32, fp16 and quantized values, zstd on and off), a small ONNX
 * graph with every kind of weight role, and that graph compressed with each preset for the loaders.
 */
final class FuzzSeeds {
  private FuzzSeeds() {}

  private static List<CaiImage> readerSeeds;
  private static List<CaiImage> loaderSeeds;
  private static byte[] onnxSeed;

  /**
   * Writes the reader seeds as {@code seed<i>.cai} into a folder (how the {@code repairedBytes}
   * corpus files were made): {@code java -cp <test classes and dependencies> ...FuzzSeeds DIR}.
   */
  public static void main(String[] args) throws IOException {
    Path dir = Files.createDirectories(Path.of(args[0]));
    int i = 0;
    for (CaiImage img : reader()) {
      Files.write(dir.resolve("seed" + i++ + ".cai"), img.toBytes());
    }
  }

  /** Seeds for the reader: tensors of every role and several dtypes, one file per option family. */
  static synchronized List<CaiImage> reader() {
    if (readerSeeds == null) {
      try {
        Path dir = Files.createTempDirectory("cai-seeds");
        List<CaiImage> out = new ArrayList<>();
        int i = 0;
        for (CompressionOptions o : readerOptions()) {
          Path p = dir.resolve("seed" + i++ + ".cai");
          CortexSdr.compress(tensors(), p, o);
          CaiImage img = CaiImage.parse(Files.readAllBytes(p));
          img.toBytes(); // fills the per-entry zstd caches that copies share
          out.add(img);
        }
        readerSeeds = out;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return readerSeeds;
  }

  static List<CompressionOptions> readerOptions() {
    List<CompressionOptions> o = new ArrayList<>();
    o.add(CompressionOptions.builder().preset(Preset.LOSSLESS).zstdLevel(0).threads(1).build());
    o.add(CompressionOptions.builder().preset(Preset.LOSSLESS).threads(1).build());
    o.add(CompressionOptions.builder().preset(Preset.INT8).minLossyElements(16).zstdLevel(0).threads(1).build());
    o.add(CompressionOptions.builder().preset(Preset.INT4).minLossyElements(16).threads(1).build());
    o.add(CompressionOptions.builder().preset(Preset.INT4).bits(3).perChannel().symmetric(true).minLossyElements(16)
        .zstdLevel(0).threads(1).build());
    o.add(CompressionOptions.builder().preset(Preset.INT8).perTensor().bits(2).minLossyElements(16).zstdLevel(0)
        .threads(1).build());
    o.add(CompressionOptions.builder().preset(Preset.SDR).minLossyElements(16).zstdLevel(0).threads(1).build());
    o.add(CompressionOptions.builder().preset(Preset.SDR).minLossyElements(16).zstdLevel(0).threads(1)
        .override("w", SdrCodec.builder().sparsity(0.9).fp32Values().deltaPositions(false).build())
        .override("c", SdrCodec.builder().sparsity(0.3).fp16Values().deltaPositions(false).build())
        .override("e", SdrCodec.builder().threshold(0.05f).perTensor(true).fp16Values().build())
        .override("tiny", QuantCodec.blockwise(8, false, 32))
        .build());
    return o;
  }

  /** The tensors of the reader seeds: small, so a mutated file is read in microseconds. */
  static InMemoryTensorSource tensors() {
    SplittableRandom r = new SplittableRandom(11);
    InMemoryTensorSource.Builder b = InMemoryTensorSource.builder("test").graph("graph".getBytes())
        .metadata("producer_name", "fuzz-seeds");
    b.add(new TensorInfo("w", DType.FLOAT32, new long[] {48, 24}, TensorRole.MATMUL_WEIGHT, 0), gauss(r, 48 * 24));
    b.add(new TensorInfo("c", DType.FLOAT32, new long[] {8, 4, 3, 3}, TensorRole.CONV_WEIGHT, 1), gauss(r, 288));
    b.add(new TensorInfo("e", DType.FLOAT32, new long[] {16, 32}, TensorRole.EMBEDDING, 1), gauss(r, 512));
    b.add(new TensorInfo("b", DType.FLOAT32, new long[] {24}, TensorRole.BIAS, 0), gauss(r, 24));
    b.add(new TensorInfo("tiny", DType.FLOAT32, new long[] {2, 40}, TensorRole.MATMUL_WEIGHT, 0), gauss(r, 80));
    ByteBuffer half = ByteBuffer.allocate(2 * 24).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 24; i++) {
      half.putShort((short) (0x3c00 + i)); // fp16 values near 1
    }
    b.add(new TensorInfo("n", DType.FLOAT16, new long[] {24}, TensorRole.NORM, 0), half.flip());
    ByteBuffer ids = ByteBuffer.allocate(8 * 40).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 40; i++) {
      ids.putLong(i < 20 ? 7 : i); // a run, then literals: RLE
    }
    b.add(new TensorInfo("ids", DType.INT64, new long[] {40}, TensorRole.OTHER, 0), ids.flip());
    float[] zeros = new float[256];
    zeros[100] = 1.5f;
    b.add(new TensorInfo("z", DType.FLOAT32, new long[] {256}, TensorRole.OTHER, 0), zeros);
    b.add(new TensorInfo("s", DType.FLOAT32, new long[0], TensorRole.OTHER, -1), new float[] {3.25f});
    b.add(new TensorInfo("empty", DType.FLOAT32, new long[] {0, 4}, TensorRole.OTHER, 0), new float[0]);
    return b.build();
  }

  static float[] gauss(SplittableRandom r, int n) {
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (r.nextGaussian() * 0.1);
    }
    return w;
  }

  /** The small ONNX graph of the loader seeds, serialized. */
  static synchronized byte[] onnx() {
    if (onnxSeed == null) {
      onnxSeed = graphModel().toByteArray();
    }
    return onnxSeed;
  }

  /** Seeds for the DJL and ORT loaders: {@link #graphModel()} compressed with each preset. */
  static synchronized List<CaiImage> loader() {
    if (loaderSeeds == null) {
      try {
        Path dir = Files.createTempDirectory("cai-loader-seeds");
        Path onnx = dir.resolve("model.onnx");
        Files.write(onnx, onnx());
        List<CaiImage> out = new ArrayList<>();
        for (Preset p : Preset.values()) {
          Path cai = dir.resolve(p.id() + ".cai");
          try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
            CortexSdr.compress(r, cai, CompressionOptions.builder().preset(p).minLossyElements(64).zstdLevel(0)
                .threads(1).build());
          }
          CaiImage img = CaiImage.parse(Files.readAllBytes(cai));
          img.toBytes();
          out.add(img);
        }
        loaderSeeds = out;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return loaderSeeds;
  }

  /** Token ids [1, 4] (int64) to the graph input of {@link #graphModel()}. */
  static final long[] IDS = {3, 0, 31, 7};

  /**
   * ids [1, 4] int64 -> Gather(E [32, 64]) -> MatMul(W1 [64, 64]) -> Add(B1) -> Relu ->
   * LayerNormalization(G, Bn) -> MatMul(W2 [64, 32]) -> Y [1, 4, 32]: an embedding table, MatMul
   * weights, a bias and norm weights, as a transformer has them.
   */
  static ModelProto graphModel() {
    SplittableRandom r = new SplittableRandom(5);
    GraphProto.Builder g = GraphProto.newBuilder().setName("fuzz")
        .addInput(value("ids", TensorProto.DataType.INT64_VALUE, 1, 4))
        .addOutput(value("Y", TensorProto.DataType.FLOAT_VALUE, 1, 4, 32));
    g.addInitializer(floats("E", gauss(r, 32 * 64), 32, 64));
    g.addInitializer(floats("W1", gauss(r, 64 * 64), 64, 64));
    g.addInitializer(floats("B1", gauss(r, 64), 64));
    float[] ones = new float[64];
    java.util.Arrays.fill(ones, 1f);
    g.addInitializer(floats("G", ones, 64));
    g.addInitializer(floats("Bn", gauss(r, 64), 64));
    g.addInitializer(floats("W2", gauss(r, 64 * 32), 64, 32));
    g.addNode(node("Gather", "gather", new String[] {"E", "ids"}, "x0"));
    g.addNode(node("MatMul", "mm1", new String[] {"x0", "W1"}, "x1"));
    g.addNode(node("Add", "add1", new String[] {"x1", "B1"}, "x2"));
    g.addNode(node("Relu", "relu", new String[] {"x2"}, "x3"));
    g.addNode(node("LayerNormalization", "ln", new String[] {"x3", "G", "Bn"}, "x4").toBuilder()
        .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("axis").setI(-1)
            .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT))
        .build());
    g.addNode(node("MatMul", "mm2", new String[] {"x4", "W2"}, "Y"));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-fuzz")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).setGraph(g).build();
  }

  private static NodeProto node(String op, String name, String[] in, String out) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(out);
    for (String s : in) {
      n.addInput(s);
    }
    return n.build();
  }

  private static TensorProto floats(String name, float[] v, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setRawData(ByteString.copyFrom(b));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  private static ValueInfoProto value(String name, int elemType, long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
  }
}
