package dev.selfbyt.cortexsdr.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractSymbolBlock;
import ai.djl.nn.ParameterList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The block of a {@link CaiModel}: runs the model's ONNX graph, with the Java executor (weights
 * compressed) or, for a graph holding operators the executor lacks, in ONNX Runtime. Inputs are
 * matched to the graph's inputs by name when every input has one, else by position. Made by {@link
 * CaiModel#load}; thread-safe, so one model serves many predictors at once.
 */
public class CaiSymbolBlock extends AbstractSymbolBlock implements AutoCloseable {
  /** Something that runs a whole graph on executor values. */
  interface Runner extends AutoCloseable {
    List<String> inputNames();

    List<String> outputNames();

    Map<String, Value> run(Map<String, Value> inputs);

    /** Bytes of weights held in memory. */
    long residentBytes();

    /** A short description for logs and reports, such as {@code "java executor"}. */
    String describe();

    @Override
    void close();
  }

  private final CaiNDManager manager;
  private volatile Runner runner;

  CaiSymbolBlock(CaiNDManager manager, Runner runner) {
    this.manager = manager;
    this.runner = runner;
    manager.attachInternal(NDManager.nextUid(), this);
  }

  Runner runner() {
    return runner;
  }

  void replace(Runner next) {
    Runner old = runner;
    runner = next;
    if (old != next) {
      old.close();
    }
  }

  /** Bytes the model's weights take in memory (compressed ones at their compressed size). */
  public long residentWeightBytes() {
    return runner.residentBytes();
  }

  /** {@code "java executor"} or {@code "ONNX Runtime (fallback)"}. */
  public String describeRunner() {
    return runner.describe();
  }

  @Override
  protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
      PairList<String, Object> params) {
    Runner r = runner;
    List<String> names = r.inputNames();
    Map<String, Value> in = new HashMap<>();
    boolean named = !inputs.isEmpty();
    for (NDArray a : inputs) {
      named &= a.getName() != null && names.contains(a.getName());
    }
    if (named) {
      for (NDArray a : inputs) {
        in.put(a.getName(), manager.from(a).value());
      }
    } else {
      if (inputs.size() != names.size()) {
        throw new IllegalArgumentException("the model takes " + names.size() + " inputs " + names + ", got "
            + inputs.size() + " (name them, or give them in this order)");
      }
      for (int i = 0; i < names.size(); i++) {
        in.put(names.get(i), manager.from(inputs.get(i)).value());
      }
    }
    Map<String, Value> out = r.run(in);
    NDManager target = inputs.isEmpty() ? manager : inputs.head().getManager();
    CaiNDManager cm = target instanceof CaiNDManager c ? c : manager;
    NDList result = new NDList(out.size());
    for (Map.Entry<String, Value> e : out.entrySet()) {
      CaiNDArray a = cm.create(e.getValue());
      a.setName(e.getKey());
      result.add(a);
    }
    return result;
  }

  @Override
  public PairList<String, Shape> describeInput() {
    PairList<String, Shape> p = new PairList<>();
    for (String n : runner.inputNames()) {
      p.add(n, null);
    }
    return p;
  }

  @Override
  public ParameterList getDirectParameters() {
    return new ParameterList();
  }

  @Override
  public void close() {
    runner.close();
  }
}
