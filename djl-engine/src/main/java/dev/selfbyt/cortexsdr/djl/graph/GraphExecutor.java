package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs an ONNX model's main graph with the operators of {@link Ops}. Built once per model (nodes
 * sorted, attributes read, weights loaded through a {@link WeightSource} that may keep them
 * compressed), then {@link #run} may be called from many threads at once: each call has its own
 * slots and frees every intermediate value after its last use.
 */
public final class GraphExecutor {
  /** Where weights come from: initializers and {@code Constant} outputs by name, or null when absent. */
  @FunctionalInterface
  public interface WeightSource {
    Value get(String name) throws IOException;
  }

  private final List<String> inputNames = new ArrayList<>();
  private final List<String> outputNames = new ArrayList<>();
  private final int[] inputSlots;
  private final int[] outputSlots;
  private final Value[] constants;
  private final String[] slotNames;
  private final Step[] steps;
  private final long constantBytes;

  private record Step(NodeProto node, Ops.Op op, int[] in, int[] out, int[] free) {}

  /** Operator types in {@code graph} this executor lacks, sorted (empty when it runs them all). */
  public static Set<String> missingOperators(GraphProto graph) {
    Set<String> missing = new TreeSet<>();
    for (NodeProto n : graph.getNodeList()) {
      if (!Ops.supports(n)) {
        missing.add(n.getDomain().isEmpty() ? n.getOpType() : n.getDomain() + ":" + n.getOpType());
      }
    }
    return missing;
  }

  /**
   * Prepares {@code model} to run, fusing node chains unless the engine's default settings say not
   * to ({@code -Ddev.selfbyt.cortexsdr.fusion=false}).
   *
   * @throws UnsupportedOperationException listing the operators it lacks
   * @throws IOException when a weight cannot be read
   */
  public GraphExecutor(ModelProto model, WeightSource weights) throws IOException {
    this(model, weights, dev.selfbyt.cortexsdr.djl.EngineSettings.defaults().fusion());
  }

  /**
   * Prepares {@code model} to run, with {@code fusion} saying whether chains of nodes are fused
   * ({@link Fusion}; the same results, fewer passes over the data).
   */
  public GraphExecutor(ModelProto model, WeightSource weights, boolean fusion) throws IOException {
    GraphProto g = model.getGraph();
    Set<String> missing = missingOperators(g);
    if (!missing.isEmpty()) {
      throw new UnsupportedOperationException("operators not supported by the CortexSDR executor: "
          + String.join(", ", missing));
    }
    int opset = 1;
    for (OperatorSetIdProto o : model.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        opset = (int) o.getVersion();
      }
    }
    Map<String, Integer> slots = new HashMap<>();
    List<Value> consts = new ArrayList<>();
    Set<String> initNames = new HashSet<>();
    for (TensorProto t : g.getInitializerList()) {
      initNames.add(t.getName());
      Value v = weights.get(t.getName());
      if (v == null) {
        v = OnnxValues.fromProto(t, t.getName());
      }
      slot(slots, t.getName(), consts, v);
    }
    for (ValueInfoProto vi : g.getInputList()) {
      if (!initNames.contains(vi.getName())) {
        inputNames.add(vi.getName());
        slot(slots, vi.getName(), consts, null);
      }
    }
    List<NodeProto> nodes = new ArrayList<>();
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("Constant") && n.getDomain().isEmpty()) {
        String name = n.getOutput(0);
        Value v = weights.get(name);
        slot(slots, name, consts, v != null ? v : constantValue(n));
      } else {
        requireInputs(n, opset);
        nodes.add(n);
      }
    }
    if (fusion) {
      Set<String> graphOutputs = new HashSet<>();
      g.getOutputList().forEach(vi -> graphOutputs.add(vi.getName()));
      nodes = Fusion.fuse(nodes, name -> {
        Integer s = slots.get(name);
        return s == null ? null : consts.get(s);
      }, graphOutputs);
    }
    nodes = sort(nodes, slots.keySet());
    for (NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        if (!o.isEmpty()) {
          slot(slots, o, consts, null);
        }
      }
    }
    for (ValueInfoProto vi : g.getOutputList()) {
      outputNames.add(vi.getName());
    }
    this.constants = consts.toArray(new Value[0]);
    this.slotNames = new String[constants.length];
    slots.forEach((name, s) -> slotNames[s] = name);
    this.inputSlots = inputNames.stream().mapToInt(slots::get).toArray();
    this.outputSlots = new int[outputNames.size()];
    for (int i = 0; i < outputSlots.length; i++) {
      Integer s = slots.get(outputNames.get(i));
      if (s == null) {
        throw new IllegalArgumentException("graph output '" + outputNames.get(i) + "' is produced by no node");
      }
      outputSlots[i] = s;
    }
    int[] lastUse = new int[constants.length];
    Arrays.fill(lastUse, -1);
    int[][] ins = new int[nodes.size()][];
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto n = nodes.get(i);
      ins[i] = new int[n.getInputCount()];
      for (int k = 0; k < ins[i].length; k++) {
        String name = n.getInput(k);
        if (name.isEmpty()) {
          ins[i][k] = -1;
          continue;
        }
        Integer s = slots.get(name);
        if (s == null) {
          throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOpType() + ") reads '" + name
              + "', which nothing produces");
        }
        ins[i][k] = s;
        lastUse[s] = i;
      }
    }
    Set<Integer> keep = new HashSet<>();
    for (int s : outputSlots) {
      keep.add(s);
    }
    List<List<Integer>> frees = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      frees.add(new ArrayList<>());
    }
    for (int s = 0; s < lastUse.length; s++) {
      if (lastUse[s] >= 0 && constants[s] == null && !keep.contains(s)) {
        frees.get(lastUse[s]).add(s);
      }
    }
    this.steps = new Step[nodes.size()];
    for (int i = 0; i < steps.length; i++) {
      NodeProto n = nodes.get(i);
      int[] outs = n.getOutputList().stream().mapToInt(o -> o.isEmpty() ? -1 : slots.get(o)).toArray();
      steps[i] = new Step(n, Ops.compile(n, opset), ins[i], outs, frees.get(i).stream().mapToInt(x -> x).toArray());
    }
    this.constantBytes = bytes(constants);
  }

  private GraphExecutor(GraphExecutor base, Value[] constants) {
    this.inputNames.addAll(base.inputNames);
    this.outputNames.addAll(base.outputNames);
    this.inputSlots = base.inputSlots;
    this.outputSlots = base.outputSlots;
    this.constants = constants;
    this.slotNames = base.slotNames;
    this.steps = base.steps;
    this.constantBytes = bytes(constants);
  }

  private static long bytes(Value[] constants) {
    long bytes = 0;
    for (Value v : constants) {
      bytes += v == null ? 0 : v.residentBytes();
    }
    return bytes;
  }

  /** How a weight is replaced: given its name and value, the new value (or the same one). */
  @FunctionalInterface
  public interface WeightRewriter {
    Value rewrite(String name, Value value) throws IOException;
  }

  /** The same graph with some weights replaced (for example compressed); this executor is unchanged. */
  public GraphExecutor withWeights(WeightRewriter rewriter) throws IOException {
    Value[] c = constants.clone();
    for (int i = 0; i < c.length; i++) {
      if (c[i] != null) {
        c[i] = rewriter.rewrite(slotNames[i], c[i]);
      }
    }
    return new GraphExecutor(this, c);
  }

  private static void slot(Map<String, Integer> slots, String name, List<Value> consts, Value v) {
    Integer s = slots.get(name);
    if (s == null) {
      slots.put(name, consts.size());
      consts.add(v);
    } else if (v != null) {
      consts.set(s, v);
    }
  }

  /** Refuses at load a node whose required inputs are missing or unnamed (it could only fail at run). */
  private static void requireInputs(NodeProto n, int opset) {
    if (!(n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))) {
      return;
    }
    int required = Ops.requiredInputs(n.getOpType(), opset);
    for (int k = 0; k < required; k++) {
      if (k >= n.getInputCount() || n.getInput(k).isEmpty()) {
        throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOpType() + ") has no input " + k
            + " (inputs " + n.getInputList() + "); " + n.getOpType() + " needs its first " + required);
      }
    }
  }

  private static Value constantValue(NodeProto n) {
    for (AttributeProto a : n.getAttributeList()) {
      switch (a.getName()) {
        case "value":
          return OnnxValues.fromProto(a.getT(), n.getOutput(0));
        case "value_float":
          return Value.ofFloats(new long[0], new float[] {a.getF()});
        case "value_floats": {
          float[] f = new float[a.getFloatsCount()];
          for (int i = 0; i < f.length; i++) {
            f[i] = a.getFloats(i);
          }
          return Value.ofFloats(new long[] {f.length}, f);
        }
        case "value_int":
          return Value.ofLongs(DType.INT64, new long[0], new long[] {a.getI()});
        case "value_ints": {
          long[] l = new long[a.getIntsCount()];
          for (int i = 0; i < l.length; i++) {
            l[i] = a.getInts(i);
          }
          return Value.ofLongs(DType.INT64, new long[] {l.length}, l);
        }
        default:
          break;
      }
    }
    throw new IllegalArgumentException("Constant node '" + n.getName() + "' holds no value this executor reads");
  }

  /** Nodes in an order where every input is ready (the file's order when it already is). */
  private static List<NodeProto> sort(List<NodeProto> nodes, Set<String> ready0) {
    Set<String> ready = new HashSet<>(ready0);
    List<NodeProto> out = new ArrayList<>(nodes.size());
    ArrayDeque<NodeProto> pending = new ArrayDeque<>(nodes);
    int stall = 0;
    while (!pending.isEmpty()) {
      NodeProto n = pending.poll();
      boolean ok = true;
      for (String i : n.getInputList()) {
        ok &= i.isEmpty() || ready.contains(i);
      }
      if (ok) {
        out.add(n);
        ready.addAll(n.getOutputList());
        stall = 0;
      } else {
        pending.add(n);
        if (++stall > pending.size()) {
          throw new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOpType()
              + ") waits for inputs nothing produces: the graph has a cycle or a missing tensor");
        }
      }
    }
    return out;
  }

  public List<String> inputNames() {
    return List.copyOf(inputNames);
  }

  public List<String> outputNames() {
    return List.copyOf(outputNames);
  }

  /**
   * The operator types this executor runs, in order, one per node after fusion (fused nodes as
   * {@code dev.selfbyt.cortexsdr.fused:Gelu} and so on).
   */
  public List<String> operatorTypes() {
    List<String> l = new ArrayList<>(steps.length);
    for (Step s : steps) {
      l.add(s.node.getDomain().isEmpty() ? s.node.getOpType() : s.node.getDomain() + ":" + s.node.getOpType());
    }
    return l;
  }

  /** Bytes held by the weights and constants (compressed ones at their compressed size). */
  public long residentBytes() {
    return constantBytes;
  }

  /** The weights and constants by slot (null for computed values), for reports. */
  public List<Value> constants() {
    List<Value> l = new ArrayList<>();
    for (Value v : constants) {
      if (v != null) {
        l.add(v);
      }
    }
    return l;
  }

  /** Runs the graph on inputs given by name; returns the outputs in graph order. */
  public Map<String, Value> run(Map<String, Value> inputs) {
    return run(inputs, null);
  }

  /** A hook called after each node with the node and its time in nanoseconds (for profiles). */
  @FunctionalInterface
  public interface NodeTimer {
    void record(NodeProto node, long nanos);
  }

  public Map<String, Value> run(Map<String, Value> inputs, NodeTimer timer) {
    Value[] v = constants.clone();
    for (int i = 0; i < inputSlots.length; i++) {
      Value x = inputs.get(inputNames.get(i));
      if (x == null) {
        throw new IllegalArgumentException("input '" + inputNames.get(i) + "' is missing; the model takes "
            + inputNames + ", got " + inputs.keySet());
      }
      v[inputSlots[i]] = x;
    }
    ArrayRecycler recycler = new ArrayRecycler();
    ArrayRecycler outer = ArrayRecycler.enter(recycler);
    try {
      runSteps(v, timer, recycler);
    } finally {
      ArrayRecycler.enter(outer);
    }
    Map<String, Value> result = new LinkedHashMap<>();
    for (int i = 0; i < outputSlots.length; i++) {
      result.put(outputNames.get(i), v[outputSlots[i]]);
    }
    return result;
  }

  /** The steps in order over the slots {@code v}; {@code recycler} learns which slots hold which arrays. */
  private void runSteps(Value[] v, NodeTimer timer, ArrayRecycler recycler) {
    for (Step s : steps) {
      Value[] in = new Value[s.in.length];
      for (int k = 0; k < in.length; k++) {
        in[k] = s.in[k] < 0 ? null : v[s.in[k]];
      }
      long t0 = timer == null ? 0 : System.nanoTime();
      Value[] out;
      try {
        out = s.op.run(in);
      } catch (InvalidNodeException e) {
        throw new InvalidNodeException("node '" + s.node.getName() + "' (" + s.node.getOpType() + ") on "
            + Arrays.toString(in) + ": " + e.getMessage(), e);
      } catch (RuntimeException e) {
        throw new IllegalStateException("node '" + s.node.getName() + "' (" + s.node.getOpType() + ") on "
            + Arrays.toString(in) + ": " + e.getMessage(), e);
      }
      if (timer != null) {
        timer.record(s.node, System.nanoTime() - t0);
      }
      for (int k = 0; k < s.out.length && k < out.length; k++) {
        if (s.out[k] >= 0) {
          recycler.dropped(v[s.out[k]]);
          v[s.out[k]] = out[k];
          recycler.held(out[k]);
        }
      }
      for (int f : s.free) {
        recycler.dropped(v[f]);
        v[f] = null;
      }
    }
  }
}
