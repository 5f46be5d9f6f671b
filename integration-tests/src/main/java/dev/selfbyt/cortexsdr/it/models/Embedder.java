package dev.selfbyt.cortexsdr.it.models;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A sentence encoder in ONNX Runtime: tokenizes with the model's tokenizer.json, runs the session
 * (batch 1), pools the last hidden state. Open one per model file; close it after.
 */
public final class Embedder implements AutoCloseable {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final RealModel.Pooling pooling;

  public Embedder(Path model, RealModel.Pooling pooling, int threads) throws OrtException {
    this.env = OrtEnvironments.get();
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(threads);
    o.setInterOpNumThreads(1);
    this.session = env.createSession(model.toString(), o);
    this.pooling = pooling;
  }

  /** An encoder over a session the caller opened (and closes through this embedder). */
  public Embedder(OrtSession session, RealModel.Pooling pooling) {
    this.env = OrtEnvironments.get();
    this.session = session;
    this.pooling = pooling;
  }

  /**
   * Pooled embeddings of a batch run at once: every encoding padded (id 0, mask 0) to the longest
   * of the batch, shape {@code [batch, longest]}.
   */
  public float[][] embedBatch(List<Encoding> batch) throws OrtException {
    int n = 0;
    for (Encoding e : batch) {
      n = Math.max(n, e.getIds().length);
    }
    long[] ids = new long[batch.size() * n];
    long[] mask = new long[ids.length];
    for (int b = 0; b < batch.size(); b++) {
      long[] x = batch.get(b).getIds();
      long[] m = batch.get(b).getAttentionMask();
      System.arraycopy(x, 0, ids, b * n, x.length);
      System.arraycopy(m, 0, mask, b * n, m.length);
    }
    long[] shape = {batch.size(), n};
    float[] hidden = OnnxCalibrator.runFirstOutput(env, session, Map.of(
        "input_ids", OnnxCalibrator.Input.ofLongs(shape, ids),
        "attention_mask", OnnxCalibrator.Input.ofLongs(shape, mask),
        "token_type_ids", OnnxCalibrator.Input.ofLongs(shape, new long[ids.length])));
    int d = hidden.length / ids.length;
    float[][] out = new float[batch.size()][];
    for (int b = 0; b < batch.size(); b++) {
      float[] h = new float[n * d];
      System.arraycopy(hidden, b * n * d, h, 0, n * d);
      out[b] = pool(h, java.util.Arrays.copyOfRange(mask, b * n, (b + 1) * n));
    }
    return out;
  }

  public static HuggingFaceTokenizer tokenizer(Path json, int maxLength) throws java.io.IOException {
    return HuggingFaceTokenizer.builder().optTokenizerPath(json).optMaxLength(maxLength).optTruncation(true)
        .optPadding(false).build();
  }

  /**
   * Encodings of one length as one input batch of a BERT-style encoder, as calibration and ONNX
   * Runtime runs take it: ids, attention mask, token types 0; shape {@code [encodings, length]}.
   */
  public static Map<String, OnnxCalibrator.Input> input(Encoding... batch) {
    return Map.of(
        "input_ids", OnnxCalibrator.Input.ofRows(Arrays.stream(batch).map(Encoding::getIds).toArray(long[][]::new)),
        "attention_mask", OnnxCalibrator.Input.ofRows(Arrays.stream(batch).map(Encoding::getAttentionMask)
            .toArray(long[][]::new)),
        "token_type_ids", OnnxCalibrator.Input.ofRows(Arrays.stream(batch).map(e -> new long[e.getIds().length])
            .toArray(long[][]::new)));
  }

  /** {@code texts} tokenized with {@link #tokenizer(Path, int)}, in order. */
  public static List<Encoding> encodeAll(Path json, int maxLength, List<String> texts) throws java.io.IOException {
    List<Encoding> enc = new java.util.ArrayList<>(texts.size());
    try (HuggingFaceTokenizer tok = tokenizer(json, maxLength)) {
      for (String s : texts) {
        enc.add(tok.encode(s));
      }
    }
    return enc;
  }

  public float[] embed(Encoding e) throws OrtException {
    return pool(hidden(e.getIds(), e.getAttentionMask()), e.getAttentionMask());
  }

  public float[][] embedAll(List<Encoding> encodings) throws OrtException {
    float[][] out = new float[encodings.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = embed(encodings.get(i));
    }
    return out;
  }

  /** The last hidden state, flattened {@code [n, d]}. */
  public float[] hidden(long[] ids, long[] mask) throws OrtException {
    long[] shape = {1, ids.length};
    return OnnxCalibrator.runFirstOutput(env, session, Map.of(
        "input_ids", OnnxCalibrator.Input.ofLongs(shape, ids),
        "attention_mask", OnnxCalibrator.Input.ofLongs(shape, mask),
        "token_type_ids", OnnxCalibrator.Input.ofLongs(shape, new long[ids.length])));
  }

  private float[] pool(float[] hidden, long[] mask) {
    return pool(hidden, mask, pooling);
  }

  /**
   * One sentence's embedding from its last hidden state ({@code [tokens, d]} flattened): the first
   * token's vector for CLS pooling, else the mean over the tokens the mask keeps.
   */
  public static float[] pool(float[] hidden, long[] mask, RealModel.Pooling pooling) {
    int n = mask.length;
    int d = hidden.length / n;
    float[] out = new float[d];
    if (pooling == RealModel.Pooling.CLS) {
      System.arraycopy(hidden, 0, out, 0, d);
      return out;
    }
    int count = 0;
    for (int t = 0; t < n; t++) {
      if (mask[t] == 0) {
        continue;
      }
      count++;
      for (int j = 0; j < d; j++) {
        out[j] += hidden[t * d + j];
      }
    }
    for (int j = 0; j < d; j++) {
      out[j] /= Math.max(count, 1);
    }
    return out;
  }

  public static double cosine(float[] a, float[] b) {
    return dev.selfbyt.cortexsdr.core.calibrate.Metrics.cosine(a, b);
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
