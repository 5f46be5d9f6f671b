package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * GPTQ's {@code X^T X} of one MatMul group's input at a time, from small sessions: the graph cut
 * to what the input depends on ({@link FedGraphs#upTo}) with the Gram probe on it, and every weight
 * that calibration rounds fed as a graph input ({@link FedGraphs#fed}), not copied into the model.
 * {@link OnnxCalibrator} made each group's session from the whole model filled with the weights
 * rounded so far (48 times on bge-small, each a copy of every weight into protobuf and into ONNX
 * Runtime); here a session holds only the small tensors, and the weight tensors are made once and
 * replaced when a weight is rounded. The sums are what the filled model gives (the same graph and
 * values), up to the order in which ONNX Runtime adds them.
 *
 * <p>Samples run on all threads at once, one ONNX Runtime thread each; worker {@code w} sums
 * samples {@code w, w + W, ...} into its own Hessian, added up in worker order (the same result on
 * every run).
 */
final class GroupGrams implements AutoCloseable {
  private final OnnxModelReader source;
  private final Set<String> fedWeights;
  private final int threads;
  private final OrtEnvironment env = OrtEnvironments.get();
  /** A fed tensor and the array it was made from (null: the source's value). */
  private record Fed(float[] from, OnnxTensor tensor) {}
  private final Map<String, Fed> tensors = new HashMap<>();
  private List<Map<String, OnnxTensor>> feeds;

  /**
   * @param fedWeights the float weights fed as inputs (those calibration may change: every weight
   *     a codec rounds); tensors calibration adds (inverse scales) are fed too
   */
  GroupGrams(OnnxModelReader source, Set<String> fedWeights, int threads) {
    this.source = source;
    this.fedWeights = fedWeights;
    this.threads = threads;
  }

  /**
   * {@code X^T X} of {@code activation} (rows of {@code k}) over the samples, with {@code current}
   * (stripped) filled by the values in {@code quantized} where given, the source's elsewhere.
   *
   * @param added tensors calibration added to the graph (not in the source), with their shapes
   */
  Hessian gram(ModelProto current, Map<String, float[]> quantized, Map<String, TensorInfo> added, String activation,
      int k, List<Map<String, OnnxCalibrator.Input>> samples, String weight) throws IOException {
    long t0 = System.nanoTime();
    Map<String, TensorInfo> infos = new HashMap<>();
    for (TensorInfo t : source.tensors()) {
      infos.put(t.name(), t);
    }
    infos.putAll(added);
    GraphProto cut = FedGraphs.upTo(current.getGraph(), Set.of(activation));
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (String w : fedWeights) {
      shapes.put(w, infos.get(w).shape());
    }
    added.forEach((n, t) -> shapes.put(n, t.shape()));
    ModelProto fed = FedGraphs.fed(current.toBuilder().setGraph(cut).build(), shapes, name -> {
      TensorInfo t = infos.get(name);
      return t == null || added.containsKey(name) ? null : source.read(t).bytes();
    });
    ModelProto probe = CalibrationGraphs.gramProbe(fed, activation, k, null, source.location());
    int workers = Math.max(1, Math.min(threads, samples.size()));
    Hessian h = new Hessian(k);
    ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
      Thread t = new Thread(r, "cortexsdr-calibrate");
      t.setDaemon(true);
      return t;
    });
    try (OrtSession.SessionOptions o = ModelTrial.sessionOptions(workers > 1 ? 1 : threads);
        OrtSession s = env.createSession(probe.toByteArray(), o)) {
      Map<String, OnnxTensor> weights = new HashMap<>();
      for (String name : s.getInputNames()) {
        if (shapes.containsKey(name)) {
          weights.put(name, tensor(name, quantized.get(name), infos.get(name)));
        }
      }
      if (feeds == null) {
        feeds = new ArrayList<>();
        for (Map<String, OnnxCalibrator.Input> sample : samples) {
          Map<String, OnnxTensor> f = new HashMap<>();
          feeds.add(f);
          for (Map.Entry<String, OnnxCalibrator.Input> e : sample.entrySet()) {
            f.put(e.getKey(), OrtRunner.tensor(env, e.getValue()));
          }
        }
      }
      t0 = CalibrationClock.since(CalibrationClock.GPTQ_SESSION, t0);
      Set<String> inputs = s.getInputNames();
      List<Future<Hessian>> parts = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        int first = w;
        parts.add(pool.submit(() -> {
          Hessian hw = new Hessian(k);
          for (int i = first; i < feeds.size(); i += workers) {
            Map<String, OnnxTensor> in = new HashMap<>(weights);
            feeds.get(i).forEach((n, v) -> {
              if (inputs.contains(n)) {
                in.put(n, v);
              }
            });
            try (OrtSession.Result r = s.run(in)) {
              hw.addGram(OrtRunner.floats((OnnxTensor) r.get(0)), 1);
            }
          }
          return hw;
        }));
      }
      for (Future<Hessian> f : parts) {
        h.add(f.get());
      }
      CalibrationClock.since(CalibrationClock.GPTQ_RUNS, t0);
    } catch (OrtException e) {
      throw new CaiException(source.location(), weight, "calibration run failed: " + e.getMessage(), e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      throw new CaiException(source.location(), weight, "calibration run failed: " + cause.getMessage(), cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CaiException(source.location(), weight, "calibration interrupted", e);
    } finally {
      pool.shutdownNow();
    }
    return h;
  }

  /** The fed tensor of a weight: its rounded value if any, else the source's; made again only when that changed. */
  private OnnxTensor tensor(String name, float[] rounded, TensorInfo info) throws OrtException, IOException {
    Fed f = tensors.get(name);
    if (f != null && f.from() == rounded) {
      return f.tensor();
    }
    if (f != null) {
      f.tensor().close();
    }
    float[] v = rounded != null ? rounded : source.read(info).floats();
    FloatBuffer b = ByteBuffer.allocateDirect(4 * v.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
    b.put(v).flip();
    OnnxTensor t = OnnxTensor.createTensor(env, b, info.shape()); // direct: ONNX Runtime reads it in place
    tensors.put(name, new Fed(rounded, t));
    return t;
  }

  @Override
  public void close() {
    tensors.values().forEach(f -> f.tensor().close());
    tensors.clear();
    if (feeds != null) {
      feeds.forEach(f -> f.values().forEach(OnnxTensor::close));
      feeds = null;
    }
  }
}
