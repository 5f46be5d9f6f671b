package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.CaiWeights;
import dev.selfbyt.cortexsdr.djl.graph.GraphExecutor;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The DJL engine's graph executor alone on one text encoder {@code .cai}: Moby-Dick text at 128
 * tokens, repeated to a batch, run many times after a warm-up; prints the median and the fastest
 * run. For A/B runs of two engine builds on the same file (put each build's benchmarks jar on the
 * class path in turn, alternating) and for {@code perf record} of a steady state, where the full
 * {@code DjlEngineReport} would add tokenizing, pooling and ONNX Runtime.
 *
 * <p>Usage: {@code GraphRunBench minilm|bge FILE.cai [batch=1] [runs=100]} (the model's tokenizer
 * is looked up beside the file, as {@code DjlEngineReport --work} leaves it).
 */
public final class GraphRunBench {
  private GraphRunBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: GraphRunBench minilm|bge FILE.cai [batch=1] [runs=100]");
      System.exit(2);
    }
    RealModel model = RealModel.parse(args[0]);
    Path cai = Path.of(args[1]);
    int batch = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    int runs = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    Encoding e;
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(cai.toAbsolutePath().getParent()), 128)) {
      e = tok.encode(String.join(" ", MobyDick.sentences(40, 500)));
    }
    int len = e.getIds().length;
    long[] ids = new long[batch * len];
    long[] mask = new long[batch * len];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(e.getIds(), 0, ids, b * len, len);
      System.arraycopy(e.getAttentionMask(), 0, mask, b * len, len);
    }
    try (CaiReader r = CaiReader.open(cai)) {
      GraphExecutor exec = new GraphExecutor(OnnxExporter.storedModel(r), n -> CaiWeights.load(r, n));
      long[] shape = {batch, len};
      Map<String, Value> in = new HashMap<>();
      in.put("input_ids", Value.ofLongs(DType.INT64, shape, ids));
      in.put("attention_mask", Value.ofLongs(DType.INT64, shape, mask));
      in.put("token_type_ids", Value.ofLongs(DType.INT64, shape, new long[batch * len]));
      for (int w = 0; w < Math.max(3, 40 / batch); w++) {
        exec.run(in);
      }
      double[] t = new double[runs];
      for (int i = 0; i < runs; i++) {
        long t0 = System.nanoTime();
        exec.run(in);
        t[i] = (System.nanoTime() - t0) / 1e6;
      }
      Arrays.sort(t);
      System.out.printf(Locale.ROOT, "%s, %s, batch %d x %d tokens: median %.2f ms, fastest %.2f ms (%d runs)%n",
          model.displayName(), cai.getFileName(), batch, len, t[runs / 2], t[0], runs);
    }
  }
}
