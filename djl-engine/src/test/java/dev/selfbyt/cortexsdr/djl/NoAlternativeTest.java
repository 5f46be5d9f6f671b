package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.translator.CrossEncoderTranslator;
import ai.djl.huggingface.translator.FillMaskTranslator;
import ai.djl.huggingface.translator.QuestionAnsweringTranslator;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.nlp.qa.QAInput;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.LambdaBlock;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.util.StringPair;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * DJL's Hugging Face text translators on CortexSDR with its alternative engine switched off
 * ({@code -Ddev.selfbyt.cortexsdr.disable_alternative=true}, set by the {@code no-alternative}
 * surefire execution, which runs this class alone in its own JVM): the tokenizers jar is present
 * (the translators need it) but any NDArray operator that left the engine would throw. The real
 * MiniLM model through {@code TextEmbeddingTranslatorFactory}; question answering, fill-mask and
 * cross-encoder translators on DJL {@code LambdaBlock}s whose logits point at known tokens.
 */
@EnabledIfSystemProperty(named = "dev.selfbyt.cortexsdr.disable_alternative", matches = "true")
class NoAlternativeTest {
  @Test
  void thereIsNoAlternativeEngine() {
    assertTrue(Engine.hasEngine("Rust"), "the tokenizers jar is on this classpath");
    assertNull(Engine.getEngine("CortexSDR").getAlternativeEngine());
  }

  @Test
  void textEmbeddingOfTheRealModel() throws Exception {
    CortexSdrEngineTest.modelFolder();
    try (ZooModel<String, float[]> model = CortexSdrEngineTest.criteria(CortexSdrEngineTest.folder, true).loadModel();
        Predictor<String, float[]> p = model.newPredictor()) {
      float[] e = p.predict(CortexSdrEngineTest.SENTENCES[1]);
      assertEquals(384, e.length);
      double norm = 0;
      for (float v : e) {
        norm += v * v;
      }
      assertEquals(1.0, Math.sqrt(norm), 1e-4);
    }
  }

  private static HuggingFaceTokenizer tokenizer() throws Exception {
    return HuggingFaceTokenizer.newInstance(TestModels.minilmTokenizer(), Map.of("padding", "false"));
  }

  /** A model whose output is {@code logits(input ids)}: the translators' whole pre- and post-processing runs for real. */
  private static Model model(java.util.function.Function<NDArray, NDList> logits) {
    Model m = Model.newInstance("lambda", "CortexSDR");
    m.setBlock(new LambdaBlock(in -> logits.apply(in.head())));
    return m;
  }

  @Test
  void questionAnsweringPicksTheMarkedSpan() throws Exception {
    try (HuggingFaceTokenizer tok = tokenizer()) {
      String question = "Who is the captain?";
      String paragraph = "The captain of the ship is Ahab, and the mate is Starbuck.";
      Encoding enc = tok.encode(question, paragraph);
      String[] tokens = enc.getTokens();
      // "ahab" is two word pieces, "ah" "##ab": the span starts at one and ends at the other
      int ah = java.util.Arrays.asList(tokens).indexOf("ah");
      int ab = java.util.Arrays.asList(tokens).indexOf("##ab");
      assertTrue(ah > 0 && ab == ah + 1, java.util.Arrays.toString(tokens));
      // high logits for the question's "captain" too: the translator must mask question tokens
      int questionCaptain = java.util.Arrays.asList(tokens).indexOf("captain");
      try (Model m = model(ids -> {
            int n = (int) ids.getShape().get(1);
            float[] start = new float[n];
            float[] end = new float[n];
            start[ah] = 5;
            end[ab] = 5;
            start[questionCaptain] = 9;
            end[questionCaptain] = 9;
            return new NDList(ids.getManager().create(start, new Shape(1, n)), ids.getManager().create(end,
                new Shape(1, n)));
          });
          Predictor<QAInput, String> p = m.newPredictor(QuestionAnsweringTranslator.builder(tok).build())) {
        assertEquals("ahab", p.predict(new QAInput(question, paragraph)));
      }
    }
  }

  @Test
  void fillMaskRanksTheMarkedToken() throws Exception {
    try (HuggingFaceTokenizer tok = tokenizer()) {
      long whale = tok.encode("whale").getIds()[1];
      long ship = tok.encode("ship").getIds()[1];
      String text = "Call me Ishmael, I hunt the [MASK].";
      int mask = java.util.Arrays.asList(tok.encode(text).getTokens()).indexOf("[MASK]");
      int vocab = 30522;
      try (Model m = model(ids -> {
            int n = (int) ids.getShape().get(1);
            float[] logits = new float[n * vocab];
            logits[mask * vocab + (int) whale] = 8;
            logits[mask * vocab + (int) ship] = 6;
            return new NDList(ids.getManager().create(logits, new Shape(1, n, vocab)));
          });
          Predictor<String, Classifications> p = m.newPredictor(FillMaskTranslator.builder(tok).optTopK(2).build())) {
        Classifications c = p.predict(text);
        assertEquals("whale", c.best().getClassName());
        double expected = Math.exp(8) / (Math.exp(8) + Math.exp(6) + (vocab - 2));
        assertEquals(expected, c.best().getProbability(), 1e-6);
        assertEquals("ship", c.items().get(1).getClassName());
      }
    }
  }

  @Test
  void crossEncoderAppliesTheSigmoid() throws Exception {
    try (HuggingFaceTokenizer tok = tokenizer();
        Model m = model(ids -> new NDList(ids.getManager().create(new float[] {1.5f}, new Shape(1, 1))));
        Predictor<StringPair, float[]> p = m.newPredictor(CrossEncoderTranslator.builder(tok).optSigmoid(true)
            .build())) {
      float[] score = p.predict(new StringPair("a whale", "the white whale"));
      assertEquals(1 / (1 + Math.exp(-1.5)), score[0], 1e-6);
    }
  }

  /**
   * DJL's token-classification translator on the real MiniLM: its 384 hidden units stand in for
   * 384 labels ({@code config.json} says {@code L0..L383}), so each token's entity is the argmax of
   * the softmax of its hidden state, recomputed here in plain Java from the raw model output.
   */
  @Test
  void tokenClassificationOfTheRealModel() throws Exception {
    CortexSdrEngineTest.modelFolder();
    java.nio.file.Path dir = TestModels.DIR.resolve("minilm-token-classification");
    java.nio.file.Files.createDirectories(dir);
    java.nio.file.Files.copy(CortexSdrEngineTest.folder.resolve("model.cai"), dir.resolve("model.cai"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    java.nio.file.Files.copy(TestModels.minilmTokenizer(), dir.resolve("tokenizer.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    StringBuilder labels = new StringBuilder("{\"id2label\": {");
    for (int k = 0; k < 384; k++) {
      labels.append(k > 0 ? ", " : "").append('"').append(k).append("\": \"L").append(k).append('"');
    }
    java.nio.file.Files.writeString(dir.resolve("config.json"), labels.append("}}").toString());
    String sentence = "Call me Ishmael, the sailor.";
    ai.djl.repository.zoo.Criteria<String, ai.djl.modality.nlp.translator.NamedEntity[]> criteria =
        ai.djl.repository.zoo.Criteria.builder().setTypes(String.class, ai.djl.modality.nlp.translator.NamedEntity[].class)
            .optModelPath(dir).optEngine("CortexSDR")
            .optTranslatorFactory(new ai.djl.huggingface.translator.TokenClassificationTranslatorFactory())
            .optArgument("includeTokenTypes", true).build();
    ai.djl.repository.zoo.Criteria<NDList, NDList> raw = ai.djl.repository.zoo.Criteria.builder()
        .setTypes(NDList.class, NDList.class).optModelPath(dir).optEngine("CortexSDR").build();
    try (ZooModel<String, ai.djl.modality.nlp.translator.NamedEntity[]> model = criteria.loadModel();
        Predictor<String, ai.djl.modality.nlp.translator.NamedEntity[]> p = model.newPredictor();
        ZooModel<NDList, NDList> rawModel = raw.loadModel();
        Predictor<NDList, NDList> rp = rawModel.newPredictor();
        HuggingFaceTokenizer tok = tokenizer();
        ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager("CortexSDR")) {
      ai.djl.modality.nlp.translator.NamedEntity[] entities = p.predict(sentence);
      Encoding enc = tok.encode(sentence);
      NDList in = new NDList(m.create(enc.getIds()).expandDims(0), m.create(enc.getAttentionMask()).expandDims(0),
          m.create(enc.getTypeIds()).expandDims(0));
      float[] hidden = rp.predict(in).get(0).toFloatArray();
      int n = enc.getIds().length;
      assertEquals(n * 384, hidden.length);
      int e = 0;
      for (int i = 0; i < n; i++) {
        if (enc.getSpecialTokenMask()[i] != 0) {
          continue;
        }
        double max = Double.NEGATIVE_INFINITY;
        int best = 0;
        for (int k = 0; k < 384; k++) {
          if (hidden[i * 384 + k] > max) {
            max = hidden[i * 384 + k];
            best = k;
          }
        }
        double sum = 0;
        for (int k = 0; k < 384; k++) {
          sum += Math.exp(hidden[i * 384 + k] - max);
        }
        assertEquals("L" + best, entities[e].getEntity(), "token " + i);
        assertEquals(1 / sum, entities[e].getScore(), 1e-6, "token " + i);
        assertEquals(enc.getTokens()[i], entities[e++].getWord());
      }
      assertEquals(e, entities.length);
    }
  }

  @Test
  void arraysStayOnCortexSdr() {
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager("CortexSDR")) {
      NDArray a = m.create(new float[] {3, 1, 2});
      assertInstanceOf(CaiNDArray.class, a.topK(2, 0).get(0));
    }
  }
}
