package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Measuring a weight's effect without running what it cannot change: the nodes upstream of the
 * weight compute the same activations whatever codec the weight gets, so each sample runs the
 * whole model once ({@link #cache}), keeping every activation that some weight's downstream part
 * reads from upstream, and each weight's candidates then run only its downstream part (the nodes
 * that depend on it, in graph order) from those cached activations, in a session of that part
 * alone ({@link #open}). On a stack of transformer layers a weight's part is on average half the
 * model.
 *
 * <p>The graph is the measuring model: the measured weights are graph inputs. The model's first
 * output is what is compared; a weight it does not depend on, or a graph with subgraphs (whose
 * outer-scope reads are not node inputs), is run whole as before ({@link #open} answers null).
 */
final class SuffixRuns implements AutoCloseable {
  private final GraphProto graph;
  private final ModelProto model;
  private final String output;
  private final Map<String, List<Integer>> nodesOf = new HashMap<>();
  private final Map<String, Set<String>> cutOf = new HashMap<>();
  private final Set<String> cut = new LinkedHashSet<>();
  private final Map<String, Integer> elemTypes = new HashMap<>();
  private final List<OrtSession.Result> cached = new ArrayList<>();
  private final List<Map<String, OnnxTensor>> activations = new ArrayList<>();

  /** @param measuring the full model with {@code weights} as graph inputs */
  SuffixRuns(ModelProto measuring, List<String> weights) {
    this.model = measuring;
    this.graph = measuring.getGraph();
    this.output = graph.getOutput(0).getName();
    if (FedGraphs.hasSubgraphs(graph)) {
      return;
    }
    Set<String> inputs = new HashSet<>();
    graph.getInputList().forEach(v -> inputs.add(v.getName()));
    graph.getInitializerList().forEach(t -> inputs.add(t.getName()));
    for (String w : weights) {
      Set<String> downstream = new HashSet<>(Set.of(w));
      List<Integer> nodes = new ArrayList<>();
      for (int i = 0; i < graph.getNodeCount(); i++) { // nodes are in topological order
        NodeProto n = graph.getNode(i);
        if (n.getInputList().stream().anyMatch(downstream::contains)) {
          nodes.add(i);
          downstream.addAll(n.getOutputList());
        }
      }
      if (!downstream.contains(output)) {
        continue;
      }
      Set<String> reads = new LinkedHashSet<>();
      for (int i : nodes) {
        for (String in : graph.getNode(i).getInputList()) {
          if (!in.isEmpty() && !downstream.contains(in) && !inputs.contains(in)) {
            reads.add(in);
          }
        }
      }
      nodesOf.put(w, nodes);
      cutOf.put(w, reads);
      cut.addAll(reads);
    }
  }

  /** The measuring model with every cached activation as an extra output (after the model's own). */
  ModelProto withCachedOutputs() {
    GraphProto.Builder g = graph.toBuilder();
    Set<String> outs = new HashSet<>();
    graph.getOutputList().forEach(v -> outs.add(v.getName()));
    for (String c : cut) {
      if (!outs.contains(c)) {
        g.addOutput(ValueInfoProto.newBuilder().setName(c)); // type inferred by ONNX Runtime
      }
    }
    return model.toBuilder().setGraph(g).build();
  }

  /**
   * Runs every sample once in {@code s} (a session of {@link #withCachedOutputs}) with the
   * weights at their original values, keeps the cached activations, and returns the first output
   * per sample (the reference the measured effects are taken against).
   */
  List<float[]> cache(ExecutorService pool, OrtSession s, List<Map<String, OnnxTensor>> feeds,
      Map<String, OnnxTensor> weights) throws OrtException {
    for (Map.Entry<String, NodeInfo> e : s.getOutputInfo().entrySet()) {
      if (e.getValue().getInfo() instanceof ai.onnxruntime.TensorInfo t && onnxType(t.onnxType) > 0) {
        elemTypes.put(e.getKey(), onnxType(t.onnxType));
      }
    }
    List<Future<OrtSession.Result>> futures = new ArrayList<>();
    for (Map<String, OnnxTensor> feed : feeds) {
      futures.add(pool.submit(() -> {
        Map<String, OnnxTensor> in = new HashMap<>(feed);
        in.putAll(weights);
        return s.run(in);
      }));
    }
    List<float[]> out = new ArrayList<>();
    for (OrtSession.Result r : join(futures)) {
      cached.add(r);
      Map<String, OnnxTensor> a = new HashMap<>();
      for (String c : cut) {
        OnnxValue v = r.get(c).orElseThrow();
        a.put(c, (OnnxTensor) v);
      }
      activations.add(a);
      out.add(floats((OnnxTensor) r.get(0)));
    }
    return out;
  }

  /** The session of a weight's downstream part, or null where the weight runs the whole model. */
  Suffix open(OrtEnvironment env, String weight, int threads) throws OrtException {
    List<Integer> nodes = nodesOf.get(weight);
    if (nodes == null) {
      return null;
    }
    Set<String> reads = new HashSet<>();
    GraphProto.Builder g = graph.toBuilder().clearNode().clearInitializer().clearInput().clearOutput()
        .clearValueInfo();
    for (int i : nodes) {
      g.addNode(graph.getNode(i));
      reads.addAll(graph.getNode(i).getInputList());
    }
    graph.getInitializerList().stream().filter(t -> reads.contains(t.getName())).forEach(g::addInitializer);
    graph.getInputList().stream().filter(v -> reads.contains(v.getName())).forEach(g::addInput);
    for (String c : cutOf.get(weight)) {
      Integer type = elemTypes.get(c);
      if (type == null) {
        return null; // not a tensor ONNX Runtime could tell the type of: run whole
      }
      g.addInput(ValueInfoProto.newBuilder().setName(c).setType(TypeProto.newBuilder()
          .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type))));
    }
    g.addOutput(graph.getOutput(0));
    OrtSession.SessionOptions o = ModelTrial.sessionOptions(threads);
    try {
      return new Suffix(env.createSession(model.toBuilder().setGraph(g).build().toByteArray(), o), o);
    } catch (OrtException | RuntimeException e) {
      o.close();
      throw e;
    }
  }

  /** One weight's downstream part. */
  final class Suffix implements AutoCloseable {
    private final OrtSession session;
    private final OrtSession.SessionOptions options;

    private Suffix(OrtSession session, OrtSession.SessionOptions options) {
      this.session = session;
      this.options = options;
    }

    /** The first output per sample with {@code swapped} fed for weight {@code name}, samples in parallel. */
    List<float[]> run(ExecutorService pool, List<Map<String, OnnxTensor>> feeds, Map<String, OnnxTensor> weights,
        String name, OnnxTensor swapped) throws OrtException {
      Set<String> inputs = session.getInputNames();
      List<Future<OrtSession.Result>> futures = new ArrayList<>();
      for (int i = 0; i < feeds.size(); i++) {
        Map<String, OnnxTensor> in = new HashMap<>();
        feeds.get(i).forEach((n, v) -> put(in, inputs, n, v));
        weights.forEach((n, v) -> put(in, inputs, n, v));
        activations.get(i).forEach((n, v) -> put(in, inputs, n, v));
        in.put(name, swapped);
        futures.add(pool.submit(() -> session.run(in)));
      }
      List<float[]> out = new ArrayList<>();
      for (OrtSession.Result r : join(futures)) {
        try (r) {
          out.add(floats((OnnxTensor) r.get(0)));
        }
      }
      return out;
    }

    @Override
    public void close() throws OrtException {
      session.close();
      options.close();
    }
  }

  /** ONNX's element type number of ONNX Runtime's (whose Java enum numbers them its own way); 0 if none. */
  static int onnxType(ai.onnxruntime.TensorInfo.OnnxTensorType t) {
    return switch (t) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> 1;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> 2;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> 3;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> 4;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> 5;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> 6;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> 7;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> 9;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> 10;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> 11;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> 12;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> 13;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> 16;
      default -> 0; // strings, complex, float8: run whole
    };
  }

  private static void put(Map<String, OnnxTensor> in, Set<String> inputs, String n, OnnxTensor v) {
    if (inputs.contains(n)) {
      in.put(n, v);
    }
  }

  private static float[] floats(OnnxTensor t) {
    FloatBuffer fb = t.getFloatBuffer();
    float[] x = new float[fb.remaining()];
    fb.get(x);
    return x;
  }

  /** Every future's result in order; on a failure the others are cancelled and closed. */
  private static List<OrtSession.Result> join(List<Future<OrtSession.Result>> futures) throws OrtException {
    List<OrtSession.Result> out = new ArrayList<>();
    try {
      for (Future<OrtSession.Result> f : futures) {
        out.add(f.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      futures.forEach(f -> f.cancel(true));
      out.forEach(OrtSession.Result::close);
      throw new IllegalStateException("interrupted while measuring", e);
    } catch (ExecutionException e) {
      futures.forEach(f -> f.cancel(true));
      out.forEach(OrtSession.Result::close);
      if (e.getCause() instanceof OrtException oe) {
        throw oe;
      }
      throw new IllegalStateException("measuring the output failed: " + e.getCause(), e.getCause());
    }
  }

  @Override
  public void close() {
    cached.forEach(OrtSession.Result::close);
    cached.clear();
    activations.clear();
  }
}
