package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 * replaced when a weight is rounded. Activations that nodes outside a group's run read are kept
 * per sample, each with the values of the fed weights it depends on; a later group runs only the
 * nodes between still-valid kept activations and its input (on a transformer, about a quarter of a
 * layer instead of everything above the group). The sums are what the filled model gives (the
 * same graph and values), up to the order in which ONNX Runtime adds them.
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
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (String w : fedWeights) {
      shapes.put(w, infos.get(w).shape());
    }
    added.forEach((n, t) -> shapes.put(n, t.shape()));
    GraphProto g = current.getGraph();
    Part part = FedGraphs.hasSubgraphs(g) ? new Part(FedGraphs.upTo(g, Set.of(activation)), List.of(), List.of(),
        Map.of()) : part(g, activation, shapes.keySet(), quantized);
    ModelProto fed = FedGraphs.fed(current.toBuilder().setGraph(part.graph()).build(), shapes, name -> {
      TensorInfo t = infos.get(name);
      return t == null || added.containsKey(name) ? null : source.read(t).bytes();
    });
    ModelProto probe = CalibrationGraphs.gramProbe(fed, activation, k, null, source.location());
    if (!part.outputs().isEmpty()) { // the activations later groups read, after the Gram matrix
      GraphProto.Builder pb = probe.getGraph().toBuilder();
      part.outputs().forEach(o -> pb.addOutput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName(o)));
      probe = probe.toBuilder().setGraph(pb).build();
    }
    int workers = Math.max(1, Math.min(threads, samples.size()));
    Hessian h = new Hessian(k);
    ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
      Thread t = new Thread(r, "cortexsdr-calibrate");
      t.setDaemon(true);
      return t;
    });
    OnnxTensor[][] kept = new OnnxTensor[part.outputs().size()][samples.size()];
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
            for (String c : part.cut()) {
              in.put(c, cache.get(c).perSample().get(i));
            }
            try (OrtSession.Result r = s.run(in)) {
              hw.addGram(OrtRunner.floats((OnnxTensor) r.get(0)), 1);
              for (int j = 0; j < kept.length; j++) {
                kept[j][i] = copy((OnnxTensor) r.get(j + 1));
              }
            }
          }
          return hw;
        }));
      }
      for (Future<Hessian> f : parts) {
        h.add(f.get());
      }
      for (int j = 0; j < kept.length; j++) {
        String name = part.outputs().get(j);
        int type = s.getOutputInfo().get(name).getInfo() instanceof ai.onnxruntime.TensorInfo ti
            ? SuffixRuns.onnxType(ti.onnxType) : 0;
        if (type > 0) {
          Cached was = cache.put(name, new Cached(List.of(kept[j]), type, part.deps().get(name)));
          if (was != null) { // a node run for another of its outputs made this one again
            was.close();
          }
          kept[j] = null;
        }
      }
      CalibrationClock.since(CalibrationClock.GPTQ_RUNS, t0);
    } catch (OrtException | java.util.concurrent.ExecutionException | InterruptedException e) {
      throw CalibrationFailure.of(source.location(), weight, e);
    } finally {
      pool.shutdownNow();
      for (OnnxTensor[] row : kept) {
        if (row != null) {
          for (OnnxTensor t : row) {
            if (t != null) {
              t.close();
            }
          }
        }
      }
    }
    return h;
  }

  /** Activations of every sample kept from an earlier run, and the fed weights' values they were computed with. */
  private record Cached(List<OnnxTensor> perSample, int elemType, Map<String, float[]> deps) {
    void close() {
      perSample.forEach(OnnxTensor::close);
    }
  }

  /** Kept activations by name, each valid while the fed weights it depends on keep their values. */
  private final Map<String, Cached> cache = new HashMap<>();

  /**
   * What one group's run computes: the graph of the nodes its input needs that no kept activation
   * gives ({@code cut}: the kept ones it reads, graph inputs), and the activations it computes
   * that nodes outside it read ({@code outputs}: kept for later groups, with their {@code deps}).
   */
  private record Part(GraphProto graph, List<String> cut, List<String> outputs, Map<String, Map<String, float[]>> deps) {}

  private Part part(GraphProto g, String activation, Set<String> fed, Map<String, float[]> quantized) {
    // which fed weights each tensor depends on (nodes are in topological order)
    Map<String, Set<String>> depends = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      Set<String> d = new java.util.HashSet<>();
      for (String in : n.getInputList()) {
        if (fed.contains(in)) {
          d.add(in);
        }
        Set<String> up = depends.get(in);
        if (up != null) {
          d.addAll(up);
        }
      }
      for (String out : n.getOutputList()) {
        depends.put(out, d);
      }
    }
    // drop kept activations computed with weights that have changed since
    cache.entrySet().removeIf(e -> {
      boolean stale = !depends.containsKey(e.getKey()) || e.getValue().deps().entrySet().stream()
          .anyMatch(d -> quantized.get(d.getKey()) != d.getValue());
      if (stale) {
        e.getValue().close();
      }
      return stale;
    });
    Map<String, Integer> producer = new HashMap<>();
    for (int i = 0; i < g.getNodeCount(); i++) {
      for (String out : g.getNode(i).getOutputList()) {
        producer.put(out, i);
      }
    }
    boolean[] run = new boolean[g.getNodeCount()];
    Set<String> cut = new LinkedHashSet<>();
    java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(activation));
    Set<String> seen = new java.util.HashSet<>();
    while (!todo.isEmpty()) {
      String t = todo.pop();
      if (t.isEmpty() || !seen.add(t)) {
        continue;
      }
      Integer p = producer.get(t);
      if (cache.containsKey(t)) {
        cut.add(t);
      } else if (p != null && !run[p]) {
        run[p] = true;
        g.getNode(p).getInputList().forEach(todo::push);
      }
    }
    GraphProto.Builder b = g.toBuilder().clearNode().clearInitializer().clearOutput();
    Set<String> reads = new java.util.HashSet<>();
    Set<String> made = new LinkedHashSet<>();
    for (int i = 0; i < run.length; i++) {
      if (run[i]) {
        b.addNode(g.getNode(i));
        reads.addAll(g.getNode(i).getInputList());
        made.addAll(g.getNode(i).getOutputList());
      }
    }
    reads.add(activation);
    g.getInitializerList().stream().filter(t -> reads.contains(t.getName())).forEach(b::addInitializer);
    Set<String> dropped = new java.util.HashSet<>(); // initializers listed as inputs (old-style models) it does not read
    g.getInitializerList().stream().filter(t -> !reads.contains(t.getName())).forEach(t -> dropped.add(t.getName()));
    List<ai.onnx.proto.OnnxMl.ValueInfoProto> in = new ArrayList<>(g.getInputList());
    in.removeIf(v -> dropped.contains(v.getName()));
    b.clearInput().addAllInput(in);
    for (String c : cut) {
      b.addInput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName(c).setType(ai.onnx.proto.OnnxMl.TypeProto
          .newBuilder().setTensorType(ai.onnx.proto.OnnxMl.TypeProto.Tensor.newBuilder()
              .setElemType(cache.get(c).elemType()))));
    }
    // what nodes outside this part read of what it makes: kept for later groups
    Set<String> outside = new java.util.HashSet<>();
    for (int i = 0; i < run.length; i++) {
      if (!run[i]) {
        outside.addAll(g.getNode(i).getInputList());
      }
    }
    List<String> outputs = new ArrayList<>();
    Map<String, Map<String, float[]>> deps = new HashMap<>();
    for (String m : made) {
      if (outside.contains(m) && !m.isEmpty()) {
        outputs.add(m);
        Map<String, float[]> d = new HashMap<>();
        depends.getOrDefault(m, Set.of()).forEach(w -> d.put(w, quantized.get(w)));
        deps.put(m, d);
      }
    }
    return new Part(b.build(), List.copyOf(cut), outputs, deps);
  }

  /** A copy of an output that outlives its run's result. */
  private OnnxTensor copy(OnnxTensor t) throws OrtException {
    ai.onnxruntime.TensorInfo info = t.getInfo();
    ByteBuffer src = t.getByteBuffer();
    ByteBuffer b = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
    b.put(src).flip();
    return OnnxTensor.createTensor(env, b, info.getShape(), info.type);
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
    cache.values().forEach(Cached::close);
    cache.clear();
    if (feeds != null) {
      feeds.forEach(f -> f.values().forEach(OnnxTensor::close));
      feeds = null;
    }
  }
}
