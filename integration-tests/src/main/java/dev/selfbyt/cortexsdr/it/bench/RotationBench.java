package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.converters.onnx.HadamardRotation;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a Hadamard rotation of MatMul inputs (issue 17, item 4) would buy at 4 and 3 bits, measured
 * before building it: {@code x W = (x H)(H W)} for an orthonormal, symmetric block-diagonal
 * Walsh-Hadamard {@code H} of block size R along the input axis, so storing {@code Q(H W)} and
 * rotating the input in the graph computes {@code x H Q(H W)}, which is what the original graph
 * computes with the weight {@code H Q(H W)}. This bench runs exactly that in ONNX Runtime: every
 * MatMul weight of a real text encoder replaced by its round-to-nearest quantization (blocks of 32
 * along the input axis per output column, asymmetric, the same quantizer for both), once plain and
 * once rotated for each R, and prints the relative weight error and the pooled-embedding cosine to
 * fp32 on Moby-Dick sentences (mean and worst). Embedding tables stay fp32; no calibration.
 * {@code compress --rotate} writes the rotated model itself ({@link HadamardRotation}).
 *
 * <pre>
 * java -Xmx4g -Dai.djl.offline=true -cp integration-tests/target/benchmarks.jar \
 *     dev.selfbyt.cortexsdr.it.bench.RotationBench [work dir] [models=minilm,bge] [bits=4,3] [sentences=200]
 * </pre>
 */
public final class RotationBench {
  private RotationBench() {}

  private static final int BLOCK = 32;
  private static final int[] ROTATIONS = {0, 32, 64, 128};

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args.length > 0 ? args[0] : "integration-tests/target/rotation");
    List<String> models = List.of((args.length > 1 ? args[1] : "minilm,bge").split(","));
    List<String> bitList = List.of((args.length > 2 ? args[2] : "4,3").split(","));
    int count = args.length > 3 ? Integer.parseInt(args[3]) : 200;
    System.out.println("| model | bits | rotation block | relative weight error | mean cosine | min cosine |");
    System.out.println("|---|---|---|---|---|---|");
    for (String name : models) {
      RealModel model = RealModel.parse(name);
      Path dir = Files.createDirectories(work.resolve(name));
      Path fp32 = model.onnx(dir);
      List<Encoding> eval = Embedder.encodeAll(model.tokenizer(dir), 128, MobyDick.sentences(count, 0));
      float[][] reference;
      try (Embedder e = new Embedder(fp32, model.pooling(), 2)) {
        reference = e.embedAll(eval);
      }
      ModelProto m = ModelProto.parseFrom(Files.readAllBytes(fp32));
      for (String b : bitList) {
        int bits = Integer.parseInt(b);
        for (int r : ROTATIONS) {
          double[] err = new double[2];
          ModelProto q = quantized(m, bits, r, err);
          Path file = dir.resolve("q" + bits + "-r" + r + ".onnx");
          Files.write(file, q.toByteArray());
          double sum = 0;
          double min = 1;
          try (Embedder e = new Embedder(file, model.pooling(), 2)) {
            float[][] got = e.embedAll(eval);
            for (int i = 0; i < got.length; i++) {
              double c = Embedder.cosine(got[i], reference[i]);
              sum += c;
              min = Math.min(min, c);
            }
          }
          Files.delete(file);
          System.out.printf(Locale.ROOT, "| %s | %d | %s | %.5f | %.4f | %.4f |%n", model.displayName(), bits,
              r == 0 ? "none" : Integer.toString(r), Math.sqrt(err[0] / err[1]), sum / eval.size(), min);
        }
      }
    }
  }

  /** {@code m} with every 2-D MatMul weight replaced by {@code H Q(H W)} ({@code Q(W)} when r is 0). */
  static ModelProto quantized(ModelProto m, int bits, int r, double[] err) {
    GraphProto g = m.getGraph();
    Set<String> weights = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("MatMul") && n.getInputCount() == 2) {
        weights.add(n.getInput(1));
      }
    }
    GraphProto.Builder b = g.toBuilder();
    for (int i = 0; i < b.getInitializerCount(); i++) {
      TensorProto t = b.getInitializer(i);
      if (!weights.contains(t.getName()) || t.getDimsCount() != 2 || t.getDataType() != TensorProto.DataType.FLOAT_VALUE
          || t.getDims(0) % Math.max(r, BLOCK) != 0) {
        continue;
      }
      int k = (int) t.getDims(0);
      int n = (int) t.getDims(1);
      FloatBuffer fb = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      float[] w = new float[fb.remaining()];
      fb.get(w);
      float[] d = r == 0 ? w.clone() : HadamardRotation.rotateRows(w, k, n, r);
      roundToNearest(d, k, n, bits);
      if (r != 0) {
        d = HadamardRotation.rotateRows(d, k, n, r); // H is its own inverse
      }
      for (int j = 0; j < w.length; j++) {
        err[0] += (double) (w[j] - d[j]) * (w[j] - d[j]);
        err[1] += (double) w[j] * w[j];
      }
      ByteBuffer out = ByteBuffer.allocate(d.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      out.asFloatBuffer().put(d);
      b.setInitializer(i, t.toBuilder().setRawData(ByteString.copyFrom(out)));
    }
    return m.toBuilder().setGraph(b).build();
  }

  /** Asymmetric round-to-nearest in blocks of {@link #BLOCK} rows per column, in place. */
  static void roundToNearest(float[] w, int k, int n, int bits) {
    int levels = (1 << bits) - 1;
    for (int col = 0; col < n; col++) {
      for (int k0 = 0; k0 < k; k0 += BLOCK) {
        float lo = Float.MAX_VALUE;
        float hi = -Float.MAX_VALUE;
        for (int i = k0; i < k0 + BLOCK; i++) {
          lo = Math.min(lo, w[i * n + col]);
          hi = Math.max(hi, w[i * n + col]);
        }
        float step = hi > lo ? (hi - lo) / levels : 1f;
        for (int i = k0; i < k0 + BLOCK; i++) {
          w[i * n + col] = Math.round((w[i * n + col] - lo) / step) * step + lo;
        }
      }
    }
  }
}
