package dev.selfbyt.cortexsdr.it.torch;

import ai.djl.Model;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.util.List;

/**
 * A sentence encoder's TorchScript (original, or a {@code .cai} loaded with {@code CaiTorch.load}) run
 * in DJL's PyTorch engine, batch 1: ids, attention mask, token types in, last hidden state out, pooled
 * as {@link dev.selfbyt.cortexsdr.it.models.Embedder} pools ONNX Runtime's.
 */
public final class TorchEmbedder implements AutoCloseable {
  private final Model model;
  private final Predictor<NDList, NDList> predictor;
  private final RealModel.Pooling pooling;

  public TorchEmbedder(Model model, RealModel.Pooling pooling) {
    this.model = model;
    this.predictor = model.newPredictor(new NoopTranslator());
    this.pooling = pooling;
  }

  public float[] embed(Encoding e) throws TranslateException {
    long[] ids = e.getIds();
    long[] mask = e.getAttentionMask();
    float[] hidden;
    try (NDManager m = model.getNDManager().newSubManager()) {
      Shape s = new Shape(1, ids.length);
      hidden = predictor.predict(new NDList(m.create(ids, s), m.create(mask, s), m.create(new long[ids.length], s)))
          .head().toFloatArray();
    }
    return Embedder.pool(hidden, mask, pooling);
  }

  public float[][] embedAll(List<Encoding> encodings) throws TranslateException {
    float[][] out = new float[encodings.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = embed(encodings.get(i));
    }
    return out;
  }

  @Override
  public void close() {
    predictor.close();
    model.close();
  }
}
