package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A small CNN built from DJL's own blocks (Conv2d, BatchNorm, ReLU, max and average pooling,
 * flatten, Linear, LayerNorm, GELU, sigmoid), initialized and run forward with the CortexSDR
 * engine's NDManager — no PyTorch on the classpath — against the same network written out with
 * {@link Reference}.
 */
class DjlBlockForwardTest {
  @Test
  void sequentialCnnForwardMatchesReference() {
    Random rnd = new Random(7);
    SequentialBlock net = new SequentialBlock()
        .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(4).build())
        .add(BatchNorm.builder().build())
        .add(Activation.reluBlock())
        .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
        .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optStride(new Shape(1, 1)).optGroups(2).setFilters(6)
            .build())
        .add(Pool.avgPool2dBlock(new Shape(2, 2), new Shape(1, 1)))
        .add(Blocks.batchFlattenBlock())
        .add(Linear.builder().setUnits(6).build())
        .add(LayerNorm.builder().build())
        .add(Activation.geluBlock())
        .add(Linear.builder().setUnits(3).build())
        .add(Activation.sigmoidBlock());
    // seeded random values for every parameter; variances kept positive
    Initializer uniform = (m, shape, type) -> m.create(Reference.random(rnd, (int) shape.size(), -1, 1), shape);
    Initializer positive = (m, shape, type) -> m.create(Reference.random(rnd, (int) shape.size(), 0.5f, 2), shape);
    net.setInitializer(uniform, p -> p.getType() != Parameter.Type.RUNNING_VAR);
    net.setInitializer(positive, Parameter.Type.RUNNING_VAR);
    net.freezeParameters(true); // inference only: this engine keeps no gradients

    // DJL's lambda blocks (pooling, activations, flatten) infer their output shapes on the default
    // engine; with the tokenizers' Rust engine also on the classpath, name CortexSDR as the default
    String before = System.getProperty("ai.djl.default_engine");
    System.setProperty("ai.djl.default_engine", "CortexSDR");
    try (NDManager m = Engine.getEngine("CortexSDR").newBaseManager()) {
      Shape inShape = new Shape(2, 3, 10, 10);
      net.initialize(m, DataType.FLOAT32, inShape);
      float[] x = Reference.random(rnd, (int) inShape.size(), -1, 1);
      NDArray out = net.forward(new ParameterStore(m, false), new NDList(m.create(x, inShape)), false)
          .singletonOrThrow();
      assertInstanceOf(CaiNDArray.class, out);
      assertEquals(new Shape(2, 3), out.getShape());

      Map<String, float[]> p = new HashMap<>();
      net.getParameters().forEach(pair -> p.put(pair.getKey(), pair.getValue().getArray().toFloatArray()));
      float[] expected = reference(x, p);
      float[] actual = out.toFloatArray();
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i], actual[i], 1e-5, "output " + i);
      }
    } finally {
      if (before == null) {
        System.clearProperty("ai.djl.default_engine");
      } else {
        System.setProperty("ai.djl.default_engine", before);
      }
    }
  }

  /** The same network by hand: parameter names are DJL's {@code NN_childName_param}. */
  private static float[] reference(float[] x, Map<String, float[]> p) {
    int[] one = {1, 1};
    float[] h = Reference.conv2d(x, 2, 3, 10, 10, p.get("01Conv2d_weight"), 4, 3, 3, p.get("01Conv2d_bias"), one,
        one, one, 1);
    h = Reference.batchNorm(h, 2, 4, 100, p.get("02BatchNorm_runningMean"), p.get("02BatchNorm_runningVar"),
        p.get("02BatchNorm_gamma"), p.get("02BatchNorm_beta"), 1e-5);
    h = Reference.map(h, v -> Math.max(0, v));
    h = Reference.pool2d(h, 8, 10, 10, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, false, false, false);
    h = Reference.conv2d(h, 2, 4, 5, 5, p.get("05Conv2d_weight"), 6, 3, 3, p.get("05Conv2d_bias"), one,
        new int[] {0, 0}, one, 2);
    h = Reference.pool2d(h, 12, 3, 3, new int[] {2, 2}, one, new int[] {0, 0}, false, true, false);
    h = Reference.linear(h, 2, 24, p.get("08Linear_weight"), 6, p.get("08Linear_bias"));
    h = Reference.layerNorm(h, 6, p.get("09LayerNorm_gamma"), p.get("09LayerNorm_beta"), 1e-5);
    h = Reference.map(h, Reference::gelu);
    h = Reference.linear(h, 2, 6, p.get("11Linear_weight"), 3, p.get("11Linear_bias"));
    return Reference.map(h, v -> 1 / (1 + Math.exp(-v)));
  }

  /**
   * A transformer-style feed-forward block with DJL's default initializers (Xavier, which draws
   * from the manager's {@code randomUniform}/{@code randomNormal}), on 128 tokens.
   */
  @Test
  void feedForwardWithDefaultInitializersMatchesReference() {
    SequentialBlock ffn = new SequentialBlock()
        .add(LayerNorm.builder().build())
        .add(Linear.builder().setUnits(64).build())
        .add(Activation.geluBlock())
        .add(Linear.builder().setUnits(16).build())
        .add(Activation.tanhBlock());
    ffn.freezeParameters(true);
    String before = System.getProperty("ai.djl.default_engine");
    System.setProperty("ai.djl.default_engine", "CortexSDR");
    try (NDManager m = Engine.getEngine("CortexSDR").newBaseManager()) {
      Engine.getEngine("CortexSDR").setRandomSeed(11);
      Shape inShape = new Shape(128, 16);
      ffn.initialize(m, DataType.FLOAT32, inShape);
      float[] x = Reference.random(new Random(3), (int) inShape.size(), -2, 2);
      NDArray out = ffn.forward(new ParameterStore(m, false), new NDList(m.create(x, inShape)), false)
          .singletonOrThrow();
      assertInstanceOf(CaiNDArray.class, out);
      Map<String, float[]> p = new HashMap<>();
      ffn.getParameters().forEach(pair -> {
        assertInstanceOf(CaiNDArray.class, pair.getValue().getArray(), pair.getKey());
        p.put(pair.getKey(), pair.getValue().getArray().toFloatArray());
      });
      float[] w = p.get("02Linear_weight");
      double sq = 0;
      for (float v : w) {
        sq += v * v;
      }
      assertEquals(true, sq > 0, "Xavier weights drawn");
      float[] h = Reference.layerNorm(x, 16, p.get("01LayerNorm_gamma"), p.get("01LayerNorm_beta"), 1e-5);
      h = Reference.linear(h, 128, 16, w, 64, p.get("02Linear_bias"));
      h = Reference.map(h, Reference::gelu);
      h = Reference.linear(h, 128, 64, p.get("04Linear_weight"), 16, p.get("04Linear_bias"));
      float[] expected = Reference.map(h, Math::tanh);
      float[] actual = out.toFloatArray();
      assertEquals(expected.length, actual.length);
      for (int i = 0; i < expected.length; i++) {
        assertEquals(expected[i], actual[i], 1e-5, "output " + i);
      }
    } finally {
      if (before == null) {
        System.clearProperty("ai.djl.default_engine");
      } else {
        System.setProperty("ai.djl.default_engine", before);
      }
    }
  }
}
