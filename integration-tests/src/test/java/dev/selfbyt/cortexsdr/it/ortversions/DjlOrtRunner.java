package dev.selfbyt.cortexsdr.it.ortversions;

import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import java.nio.file.Path;

/**
 * Runs an exported {@code .onnx} through DJL's own ONNX Runtime engine ({@code
 * ai.djl.onnxruntime:onnxruntime-engine}), as a DJL user would: {@code Criteria} with {@code
 * optEngine("OnnxRuntime")}, NDList in, NDList out. Only on the class path of {@link
 * OrtVersionProbe}'s {@code --djl} runs.
 */
final class DjlOrtRunner implements AutoCloseable {
  private final Engine engine = Engine.getEngine("OnnxRuntime");
  private final NDManager manager = engine.newBaseManager();

  String describe() {
    return "DJL " + Engine.getDjlVersion() + " engine " + engine.getEngineName() + " " + engine.getVersion();
  }

  float[] run(Path model, long[] ids) throws Exception {
    Criteria<NDList, NDList> c = Criteria.builder().setTypes(NDList.class, NDList.class)
        .optModelPath(model).optEngine("OnnxRuntime").build();
    try (ZooModel<NDList, NDList> m = c.loadModel();
        Predictor<NDList, NDList> p = m.newPredictor();
        NDManager nd = manager.newSubManager()) {
      Shape shape = new Shape(1, ids.length);
      NDArray a = nd.create(ids, shape);
      a.setName("input_ids");
      NDArray b = nd.ones(shape, ai.djl.ndarray.types.DataType.INT64);
      b.setName("attention_mask");
      NDArray t = nd.zeros(shape, ai.djl.ndarray.types.DataType.INT64);
      t.setName("token_type_ids");
      NDList out = p.predict(new NDList(a, b, t));
      return out.get(0).toFloatArray();
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
