package dev.selfbyt.cortexsdr.spark;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code .cai} in the DJL engine {@code CortexSDR} ({@code Criteria...optEngine("CortexSDR")}),
 * weights kept compressed in memory. The model is shared; each call takes its own predictor,
 * since DJL predictors are not for concurrent use.
 */
final class DjlModelRunner implements ModelRunner {
  private final Path file;
  private final ZooModel<NDList, NDList> model;
  private final List<String> inputs;

  private DjlModelRunner(Path file, ZooModel<NDList, NDList> model) {
    this.file = file;
    this.model = model;
    List<String> names = new ArrayList<>();
    model.getBlock().describeInput().forEach(p -> names.add(p.getKey()));
    this.inputs = List.copyOf(names);
  }

  static DjlModelRunner open(Path cai, int threads) throws Exception {
    Criteria.Builder<NDList, NDList> c = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(cai)
        .optEngine("CortexSDR");
    if (threads > 0) {
      c.optOption("numThreads", Integer.toString(threads));
    }
    return new DjlModelRunner(cai, c.build().loadModel());
  }

  @Override
  public List<String> inputNames() {
    return inputs;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> in) throws Exception {
    try (NDManager nd = model.getNDManager().newSubManager();
        Predictor<NDList, NDList> p = model.newPredictor()) {
      NDList list = new NDList(in.size());
      for (String name : inputs) {
        Tensor t = in.get(name);
        if (t == null) {
          throw new IllegalArgumentException(file + ": input '" + name + "' was not given (inputs: " + inputs + ")");
        }
        NDArray a = t.isLong() ? nd.create(t.longs(), new Shape(t.shape())) : nd.create(t.floats(), new Shape(t.shape()));
        a.setName(name);
        list.add(a);
      }
      NDList out = p.predict(list);
      Map<String, Tensor> result = new LinkedHashMap<>();
      for (NDArray a : out) {
        long[] shape = a.getShape().getShape();
        if (a.getDataType() == DataType.INT64) {
          result.put(a.getName(), Tensor.ofLongs(shape, a.toLongArray()));
        } else {
          NDArray f = a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
          result.put(a.getName(), Tensor.ofFloats(shape, f.toFloatArray()));
        }
      }
      return result;
    }
  }

  @Override
  public String describe() {
    return "DJL engine CortexSDR on " + file;
  }

  @Override
  public void close() {
    model.close();
  }
}
