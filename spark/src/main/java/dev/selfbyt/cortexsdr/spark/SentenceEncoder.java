package dev.selfbyt.cortexsdr.spark;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A BERT-style sentence encoder: the model's {@code tokenizer.json} (truncated to a maximum
 * length, no padding), the model run on a batch padded to its longest sentence (ids 0, mask 0,
 * token types 0), then {@link Pooling} over the first output's tokens the mask keeps; an output
 * that is already {@code [batch, dim]} is taken as it is. Plain Java, no Spark: the executors use
 * it, and so can a local program (the same numbers, one sentence or many at a time).
 *
 * <pre>{@code
 * try (SentenceEncoder e = SentenceEncoder.open(Path.of("minilm.cai"), Path.of("tokenizer.json"),
 *     ModelRuntime.ONNX_RUNTIME, Pooling.MEAN, 128, 1)) {
 *   float[][] v = e.encode(List.of("Call me Ishmael."));
 * }
 * }</pre>
 */
public final class SentenceEncoder implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final ModelRunner runner;
  private final Pooling pooling;
  private final boolean tokenTypes;

  /** An encoder over a tokenizer and a runner it closes with itself. */
  public SentenceEncoder(HuggingFaceTokenizer tokenizer, ModelRunner runner, Pooling pooling) {
    this.tokenizer = tokenizer;
    this.runner = runner;
    this.pooling = pooling;
    List<String> in = runner.inputNames();
    if (!in.contains("input_ids") || !in.contains("attention_mask")) {
      throw new IllegalArgumentException(runner.describe() + ": a sentence encoder takes input_ids and "
          + "attention_mask; this model takes " + in + " (use CortexSdrModelTransformer for other models)");
    }
    this.tokenTypes = in.contains("token_type_ids");
  }

  /**
   * Opens {@code model} in {@code runtime} with {@code tokenizerJson}.
   *
   * @param maxLength tokens kept per sentence (longer ones are truncated)
   * @param threads the runtime's threads, 0 for its default
   */
  public static SentenceEncoder open(Path model, Path tokenizerJson, ModelRuntime runtime, Pooling pooling,
      int maxLength, int threads) throws Exception {
    HuggingFaceTokenizer tok = tokenizer(tokenizerJson, maxLength);
    try {
      return new SentenceEncoder(tok, ModelRunner.open(model, runtime, threads), pooling);
    } catch (Exception | Error e) {
      tok.close();
      throw e;
    }
  }

  /** The tokenizer as the encoder uses it: truncation at {@code maxLength}, no padding. */
  public static HuggingFaceTokenizer tokenizer(Path json, int maxLength) throws IOException {
    return HuggingFaceTokenizer.builder().optTokenizerPath(json).optMaxLength(maxLength).optTruncation(true)
        .optPadding(false).build();
  }

  /** The pooled embeddings of {@code texts}, run as one batch, in order. */
  public float[][] encode(List<String> texts) throws Exception {
    if (texts.isEmpty()) {
      return new float[0][];
    }
    Encoding[] enc = tokenizer.batchEncode(texts);
    int n = 1;
    for (Encoding e : enc) {
      n = Math.max(n, e.getIds().length);
    }
    int b = enc.length;
    long[] ids = new long[b * n];
    long[] mask = new long[b * n];
    for (int i = 0; i < b; i++) {
      long[] x = enc[i].getIds();
      long[] m = enc[i].getAttentionMask();
      System.arraycopy(x, 0, ids, i * n, x.length);
      System.arraycopy(m, 0, mask, i * n, m.length);
    }
    long[] shape = {b, n};
    Map<String, Tensor> in = tokenTypes
        ? Map.of("input_ids", Tensor.ofLongs(shape, ids), "attention_mask", Tensor.ofLongs(shape, mask),
            "token_type_ids", Tensor.ofLongs(shape, new long[ids.length]))
        : Map.of("input_ids", Tensor.ofLongs(shape, ids), "attention_mask", Tensor.ofLongs(shape, mask));
    Tensor out = runner.run(in).values().iterator().next();
    long[] s = out.shape();
    float[] h = out.floats();
    float[][] result = new float[b][];
    if (s.length == 2 && s[0] == b) {
      int d = (int) s[1];
      for (int i = 0; i < b; i++) {
        result[i] = java.util.Arrays.copyOfRange(h, i * d, (i + 1) * d);
      }
      return result;
    }
    if (s.length != 3 || s[0] != b || s[1] != n) {
      throw new IllegalStateException(runner.describe() + ": first output has shape " + java.util.Arrays.toString(s)
          + ", expected [" + b + ", " + n + ", dim] (token vectors) or [" + b + ", dim]");
    }
    int d = (int) s[2];
    for (int i = 0; i < b; i++) {
      result[i] = pool(h, i * n * d, n, d, mask, i * n);
    }
    return result;
  }

  private float[] pool(float[] h, int at, int n, int d, long[] mask, int maskAt) {
    float[] v = new float[d];
    if (pooling == Pooling.CLS) {
      System.arraycopy(h, at, v, 0, d);
      return v;
    }
    int count = 0;
    for (int t = 0; t < n; t++) {
      if (mask[maskAt + t] == 0) {
        continue;
      }
      count++;
      int row = at + t * d;
      for (int j = 0; j < d; j++) {
        v[j] += h[row + j];
      }
    }
    for (int j = 0; j < d; j++) {
      v[j] /= Math.max(count, 1);
    }
    return v;
  }

  /** What runs the model. */
  public String describe() {
    return runner.describe();
  }

  @Override
  public void close() throws Exception {
    try {
      runner.close();
    } finally {
      tokenizer.close();
    }
  }
}
