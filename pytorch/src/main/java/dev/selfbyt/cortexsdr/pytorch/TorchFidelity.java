package dev.selfbyt.cortexsdr.pytorch;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * How close a compressed TorchScript model computes to its original: both run in DJL's PyTorch
 * engine on the same inputs, and every floating output is compared (cosine per sample, NMSE over
 * all). This is the output check TorchScript gets in place of calibration: the weights are rounded
 * without calibration data (GPTQ needs each layer's inputs, which a TorchScript module run through
 * DJL does not expose), and this measures what that rounding did to the outputs.
 *
 * <pre>{@code
 * TorchFidelity.Result r = TorchFidelity.compare(Path.of("resnet50.pt"), Path.of("resnet50.cai"),
 *     TorchFidelity.randomInputs(42, 8, new Shape(1, 3, 224, 224)));
 * System.out.println(r.meanCosine() + " " + r.nmse());
 * }</pre>
 */
public final class TorchFidelity {
  private TorchFidelity() {}

  /** Samples compared, mean and lowest cosine of the outputs per sample, and NMSE over all outputs. */
  public record Result(int samples, double meanCosine, double minCosine, double nmse) {}

  /**
   * {@code count} inputs of standard normal floats of the given shapes (one tensor per shape), from
   * {@code seed}: the same numbers on every machine and engine.
   */
  public static List<Function<NDManager, NDList>> randomInputs(long seed, int count, Shape... shapes) {
    Random rnd = new Random(seed);
    List<Function<NDManager, NDList>> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      List<float[]> values = new ArrayList<>();
      for (Shape s : shapes) {
        float[] v = new float[Math.toIntExact(s.size())];
        for (int j = 0; j < v.length; j++) {
          v[j] = (float) rnd.nextGaussian();
        }
        values.add(v);
      }
      out.add(m -> {
        NDList l = new NDList();
        for (int k = 0; k < shapes.length; k++) {
          l.add(m.create(values.get(k), shapes[k]));
        }
        return l;
      });
    }
    return out;
  }

  /** Loads the original TorchScript file and the {@code .cai} into PyTorch and compares them. */
  public static Result compare(Path original, Path cai, List<Function<NDManager, NDList>> inputs) throws IOException {
    PyTorchNatives.require("comparing " + cai + " with " + original);
    try (Model reference = loadTorchScript(original);
        ZooModel<NDList, NDList> compressed = CaiTorch.load(cai, new NoopTranslator())) {
      return compare(reference, compressed, inputs);
    }
  }

  /** A TorchScript file in DJL's PyTorch engine, read from its bytes as {@link CaiTorch#load} reads a {@code .cai}. */
  public static Model loadTorchScript(Path pt) throws IOException {
    Model m = Model.newInstance(pt.getFileName().toString(), Device.cpu(), PyTorchNatives.ENGINE);
    try (InputStream in = Files.newInputStream(pt)) {
      m.load(in, Map.of());
    } catch (MalformedModelException | RuntimeException e) {
      m.close();
      throw new TorchScriptFormatException(pt.toString(), null, "PyTorch cannot load it: " + e.getMessage(), e);
    }
    return m;
  }

  /** Runs both models on every input and compares their floating outputs. */
  public static Result compare(Model reference, Model compressed, List<Function<NDManager, NDList>> inputs)
      throws IOException {
    double err = 0;
    double energy = 0;
    double sumCos = 0;
    double minCos = 1;
    try (Predictor<NDList, NDList> a = reference.newPredictor(new NoopTranslator());
        Predictor<NDList, NDList> b = compressed.newPredictor(new NoopTranslator());
        NDManager m = reference.getNDManager().newSubManager()) {
      for (Function<NDManager, NDList> input : inputs) {
        try (NDManager call = m.newSubManager()) {
          float[] x = floats(a.predict(input.apply(call)));
          float[] y = floats(b.predict(input.apply(call)));
          if (x.length != y.length) {
            throw new IllegalStateException("the models give outputs of " + x.length + " and " + y.length + " values");
          }
          double dot = 0;
          double nx = 0;
          double ny = 0;
          for (int i = 0; i < x.length; i++) {
            double d = x[i] - y[i];
            err += d * d;
            energy += (double) x[i] * x[i];
            dot += (double) x[i] * y[i];
            nx += (double) x[i] * x[i];
            ny += (double) y[i] * y[i];
          }
          double cos = nx == 0 && ny == 0 ? 1 : nx == 0 || ny == 0 ? 0 : dot / Math.sqrt(nx * ny);
          sumCos += cos;
          minCos = Math.min(minCos, cos);
        }
      }
    } catch (TranslateException e) {
      throw new IOException("running the models failed: " + e.getMessage(), e);
    }
    if (energy == 0) {
      // an all-zero output (a zero-initialised head, say) matches anything: there is nothing to compare
      throw new IllegalStateException("the reference model's outputs are all zero on these inputs: they say nothing "
          + "about the compressed model");
    }
    return new Result(inputs.size(), sumCos / inputs.size(), minCos, err / energy);
  }

  /** Every floating output, flattened and concatenated. */
  private static float[] floats(NDList out) {
    List<float[]> parts = new ArrayList<>();
    int n = 0;
    for (NDArray a : out) {
      if (a.getDataType().isFloating()) {
        float[] f = a.toType(DataType.FLOAT32, false).toFloatArray();
        parts.add(f);
        n += f.length;
      }
    }
    float[] all = new float[n];
    int at = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }
}
