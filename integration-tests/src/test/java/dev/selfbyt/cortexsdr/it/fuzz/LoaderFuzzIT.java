package dev.selfbyt.cortexsdr.it.fuzz;

import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.djl.graph.InvalidNodeException;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the two runtime loaders on mutated {@code .cai} files made from a
 * small transformer-like ONNX graph ({@link FuzzSeeds#loader()}, one per preset; mutations by
 * {@link CaiMutator} with checksums recomputed): {@link CaiOrt#open} then one run, and
 * DJL's {@code Criteria...optEngine("CortexSDR")} load then one prediction. Expected outcomes:
 * success, {@code CaiException}, {@code OrtException} (ONNX Runtime rejects the rebuilt graph), or
 * for DJL {@code MalformedModelException} at load and a {@code TranslateException} at predict
 * whose cause is one of those or an {@link InvalidNodeException} (a node attribute, such as an
 * axis, that does not fit the values the node is given, named with the node). A native crash ends the fuzz JVM, which libFuzzer reports.
 */
class LoaderFuzzIT {
  @FuzzTest(maxDuration = "12s")
  void ortSession(FuzzedDataProvider data) throws Exception {
    byte[] file = mutated(data);
    Path p = FuzzHarness.write("ort.cai", file);
    FuzzHarness.run("ortSession", file, "cai", () -> ortSession(p));
  }

  static void ortSession(Path p) throws Exception {
    OrtEnvironment env = ortEnvironment();
    try (dev.selfbyt.cortexsdr.onnxops.CaiOrtSession cs = CaiOrt.open(env, p,
        dev.selfbyt.cortexsdr.onnxops.CaiOrtOptions.builder().intraOpThreads(1).build())) {
      OrtSession s = cs.session();
      try (OnnxTensor ids = OnnxTensor.createTensor(env, new long[][] {FuzzSeeds.IDS})) {
        try (OrtSession.Result r = s.run(Map.of(s.getInputNames().iterator().next(), ids))) {
          r.get(0).getValue();
        }
      }
    } catch (CaiException | OrtException expected) {
      // named damage, or ONNX Runtime refusing the rebuilt model
      FuzzHarness.expected(expected);
    }
  }

  @FuzzTest(maxDuration = "12s")
  void djlEngine(FuzzedDataProvider data) throws Exception {
    byte[] file = mutated(data);
    Path p = FuzzHarness.write("djl.cai", file);
    FuzzHarness.run("djlEngine", file, "cai", () -> djlEngine(p));
  }

  static void djlEngine(Path p) throws Exception {
    Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(p)
        .optEngine("CortexSDR").build();
    try (ZooModel<NDList, NDList> model = criteria.loadModel();
        Predictor<NDList, NDList> pred = model.newPredictor();
        NDManager nd = model.getNDManager().newSubManager()) {
      NDList out = pred.predict(new NDList(nd.create(FuzzSeeds.IDS, new Shape(1, 4))));
      out.get(0).toFloatArray();
    } catch (MalformedModelException | CaiException expected) {
      // named damage at load
      FuzzHarness.expected(expected);
    } catch (TranslateException e) {
      if (!(e.getCause() instanceof CaiException || e.getCause() instanceof MalformedModelException
          || e.getCause() instanceof InvalidNodeException)) {
        throw e;
      }
      FuzzHarness.expected(e);
    }
  }

  private static byte[] mutated(FuzzedDataProvider data) {
    List<CaiImage> seeds = FuzzSeeds.loader();
    CaiImage seed = seeds.get(data.consumeInt(0, seeds.size() - 1));
    return CaiMutator.mutate(seed, data, 4).toBytes();
  }

  private static OrtEnvironment ortEnvironment() {
    Engine.getEngine("CortexSDR"); // DJL's engines first, then ORT's environment (MODELS.md)
    return OrtEnvironment.getEnvironment();
  }
}
