package dev.selfbyt.cortexsdr.it.bench;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * What int8-fast's SmoothQuant smoothing {@code Mul}s cost in ONNX Runtime (a main): an exported
 * quantized {@code .onnx} against a copy with every smoothing {@code Mul} removed (numerically
 * wrong: a cost bound only), both in one run, 2 threads, batch 1 and batch 32 of 128 tokens,
 * alternating which file runs first. A smoothing {@code Mul} is found by structure: a {@code Mul}
 * of an activation by a constant (an initializer, or a {@code Cast} of one) whose every consumer
 * is a {@code DynamicQuantizeLinear}, a {@code MatMul}/{@code MatMulInteger} or a channel
 * {@code Gather}/{@code Slice}/{@code Split} (split-off outlier channels).
 *
 * <p>Arguments: {@code <exported .onnx> <copy to write> [rounds] [daz]}; with {@code daz} both
 * sessions flush denormals ({@code session.set_denormal_as_zero}): the copy without the Muls feeds
 * unsmoothed (too large) activations to weights scaled for smoothed ones, and without flushing it
 * slows down on denormals, which is not what the Muls cost.
 */
public final class SmoothingMulCostBench {
  private static final int TOKENS = 128;

  private SmoothingMulCostBench() {}

  public static void main(String[] args) throws Exception {
    Path in = Path.of(args[0]);
    Path out = Path.of(args[1]);
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    boolean daz = args.length > 3 && args[3].equals("daz");
    ModelProto model = ModelProto.parseFrom(Files.readAllBytes(in));
    GraphProto g = model.getGraph();
    GraphProto.Builder without = g.toBuilder().clearNode();
    int removed = withoutSmoothing(g, without);
    Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
    Files.write(tmp, model.toBuilder().setGraph(without).build().toByteArray());
    Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    System.out.println(in.getFileName() + ": " + removed + " smoothing Muls removed"
        + (daz ? ", denormals flushed" : ""));
    OrtEnvironment env = OrtEnvironments.get();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setIntraOpNumThreads(2);
      so.setInterOpNumThreads(1);
      so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (daz) {
        so.addConfigEntry("session.set_denormal_as_zero", "1");
      }
      try (OrtSession with = env.createSession(in.toString(), so);
          OrtSession bare = env.createSession(out.toString(), so)) {
        for (int batch : new int[] {1, 32}) {
          time(env, new OrtSession[] {with, bare}, batch, batch == 1 ? rounds * 10 : rounds);
        }
      }
    }
  }

  /** Copies g's nodes into out without its smoothing Muls; @return how many were removed. */
  static int withoutSmoothing(GraphProto g, GraphProto.Builder out) {
    Set<String> constants = new HashSet<>();
    for (TensorProto t : g.getInitializerList()) {
      constants.add(t.getName());
    }
    Map<String, List<NodeProto>> users = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("Constant")
          || n.getOpType().equals("Cast") && constants.contains(n.getInput(0))) {
        constants.add(n.getOutput(0));
      }
      for (String i : n.getInputList()) {
        users.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
      }
    }
    Set<String> quantizing = Set.of("DynamicQuantizeLinear", "MatMulInteger", "MatMul", "Gather",
        "Slice", "Split");
    Map<String, String> rename = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("Mul") && n.getInputCount() == 2 && constants.contains(n.getInput(1))
          && !constants.contains(n.getInput(0))) {
        List<NodeProto> us = users.getOrDefault(n.getOutput(0), List.of());
        if (!us.isEmpty() && us.stream().allMatch(u -> quantizing.contains(u.getOpType()))) {
          rename.put(n.getOutput(0), n.getInput(0));
          continue;
        }
      }
      out.addNode(n);
    }
    for (int k = 0; k < out.getNodeCount(); k++) {
      NodeProto.Builder nb = out.getNodeBuilder(k);
      for (int i = 0; i < nb.getInputCount(); i++) {
        String r = rename.get(nb.getInput(i));
        if (r != null) {
          nb.setInput(i, r);
        }
      }
    }
    return rename.size();
  }

  private static void time(OrtEnvironment env, OrtSession[] s, int batch, int n) throws Exception {
    long[] ids = new long[batch * TOKENS];
    long[] mask = new long[ids.length];
    long[] types = new long[ids.length];
    Random r = new Random(7);
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1000 + r.nextInt(20000);
      mask[i] = 1;
    }
    Map<String, OnnxTensor> feed = new HashMap<>();
    long[] shape = {batch, TOKENS};
    try {
      for (String name : s[0].getInputNames()) {
        long[] v = name.contains("mask") ? mask : name.contains("type") ? types : ids;
        feed.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape));
      }
      for (int w = 0; w < (batch == 1 ? 20 : 3); w++) {
        for (OrtSession x : s) {
          x.run(feed).close();
        }
      }
      long[][] t = new long[2][n];
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
          int which = i % 2 == 0 ? k : 1 - k;
          long t0 = System.nanoTime();
          s[which].run(feed).close();
          t[which][i] = System.nanoTime() - t0;
        }
      }
      double[] median = new double[2];
      for (int k = 0; k < 2; k++) {
        long[] c = t[k].clone();
        Arrays.sort(c);
        median[k] = c[n / 2] / 1e6;
      }
      System.out.printf(Locale.ROOT, "batch %d: with Muls %.2f ms, without %.2f ms, with/without %.3fx"
          + " (medians of %d)%n", batch, median[0], median[1], median[0] / median[1], n);
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }
}
