package dev.selfbyt.cortexsdr.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A small real TorchScript module (conv, batch norm, linear, embedding, layer norm) through .cai and back. */
class TorchScriptRoundTripTest {
  @TempDir Path tmp;

  private static Map<String, TensorInfo> infos(Path pt) throws Exception {
    Map<String, TensorInfo> m = new HashMap<>();
    try (TorchScriptReader r = TorchScriptReader.open(pt)) {
      for (TensorInfo t : r.tensors()) {
        m.put(t.name(), t);
      }
    }
    return m;
  }

  @Test
  void rolesComeFromTheModulesOperatorsTracedOrScripted() throws Exception {
    for (Path pt : List.of(TinyModels.traced(), TinyModels.scripted())) {
      Map<String, TensorInfo> t = infos(pt);
      assertEquals(TensorRole.CONV_WEIGHT, t.get("conv.weight").role(), pt.toString());
      assertEquals(1, t.get("conv.weight").reductionAxis());
      assertEquals(TensorRole.MATMUL_WEIGHT, t.get("fc.weight").role(), pt.toString());
      assertEquals(1, t.get("fc.weight").reductionAxis(), "linear weight [out, in] sums over in");
      assertEquals(TensorRole.EMBEDDING, t.get("embed.weight").role(), pt.toString());
      assertEquals(TensorRole.NORM, t.get("bn.running_var").role(), pt.toString());
      assertEquals(TensorRole.NORM, t.get("norm.weight").role(), pt.toString());
      assertArrayEquals(new long[] {64, 512}, t.get("fc.weight").shape());
    }
  }

  /** What the reader finds without PyTorch is what PyTorch itself lists: every parameter, its name, shape and values. */
  @Test
  void theReaderAgreesWithPyTorchsOwnParameterList() throws Exception {
    for (Path pt : List.of(TinyModels.traced(), TinyModels.scripted())) {
      Map<String, TensorInfo> t = infos(pt);
      int n = 0;
      try (Model m = TorchFidelity.loadTorchScript(pt); TorchScriptReader r = TorchScriptReader.open(pt)) {
        for (var p : m.getBlock().getParameters()) {
          TensorInfo info = t.get(p.getKey());
          assertTrue(info != null, pt + ": PyTorch's parameter " + p.getKey() + " is not among " + t.keySet());
          assertArrayEquals(p.getValue().getArray().getShape().getShape(), info.shape(), p.getKey());
          assertArrayEquals(p.getValue().getArray().toFloatArray(), r.read(info).floats(), p.getKey());
          n++;
        }
      }
      assertEquals(11, n, "conv, bn, fc, norm, head: weight and bias; embed: weight (bn's statistics are buffers)");
    }
  }

  @Test
  void losslessRoundTripIsBitIdenticalInWeightsAndOutputs() throws Exception {
    Path pt = TinyModels.traced();
    Path cai = tmp.resolve("tiny.cai");
    try (TorchScriptReader r = TorchScriptReader.open(pt)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    Path back = tmp.resolve("tiny.back.pt");
    CaiTorch.decompress(cai, back);
    try (TorchScriptReader a = TorchScriptReader.open(pt); TorchScriptReader b = TorchScriptReader.open(back)) {
      assertEquals(a.tensors(), b.tensors());
      for (TensorInfo t : a.tensors()) {
        assertEquals(a.read(t).bytes(), b.read(t).bytes(), t.name());
      }
    }
    List<Function<NDManager, NDList>> inputs = inputs();
    try (Model original = TorchFidelity.loadTorchScript(pt);
        ZooModel<NDList, NDList> loaded = CaiTorch.load(cai, new NoopTranslator());
        Model decompressed = TorchFidelity.loadTorchScript(back)) {
      for (Function<NDManager, NDList> in : inputs) {
        float[] want = run(original, in);
        assertArrayEquals(want, run(loaded, in), "CaiTorch.load");
        assertArrayEquals(want, run(decompressed, in), "decompress");
      }
      assertEquals(1.0, TorchFidelity.compare(original, loaded, inputs).meanCosine(), 0);
    }
  }

  @Test
  void int8KeepsOutputsClose() throws Exception {
    Path pt = TinyModels.scripted();
    Path cai = tmp.resolve("tiny8.cai");
    CompressionStats s;
    try (TorchScriptReader r = TorchScriptReader.open(pt)) {
      s = CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT8).build());
    }
    assertTrue(s.ratio() > 2.5, "ratio " + s.ratio());
    TorchFidelity.Result f = TorchFidelity.compare(pt, cai, inputs());
    assertTrue(f.minCosine() > 0.999 && f.nmse() < 1e-3, f.toString());
  }

  /** The skeleton holds no weight bytes, and written with zeros it is a module PyTorch loads and runs. */
  @Test
  void theSkeletonIsTheZeroedModule() throws Exception {
    Path pt = TinyModels.traced();
    TorchScriptSkeleton skeleton;
    long storages = 0;
    try (TorchScriptReader r = TorchScriptReader.open(pt)) {
      skeleton = TorchScriptSkeleton.decode("tiny", r.graph());
      for (TensorInfo t : r.tensors()) {
        storages += t.byteSize();
      }
    }
    assertEquals(storages, skeleton.storages().stream().mapToLong(TorchScriptSkeleton.Record::storageBytes).sum());
    Path zeroed = tmp.resolve("zeroed.pt");
    try (var out = Files.newOutputStream(zeroed)) {
      skeleton.write("tiny", out, name -> null);
    }
    try (Model m = TorchFidelity.loadTorchScript(zeroed); TorchScriptReader r = TorchScriptReader.open(zeroed)) {
      for (TensorInfo t : r.tensors()) {
        java.nio.ByteBuffer b = r.read(t).bytes();
        while (b.hasRemaining()) {
          assertEquals(0, b.get(), t.name());
        }
      }
      float[] y = run(m, inputs().get(0));
      assertEquals(20, y.length, "2 samples x 10 logits from the zeroed module");
    }
  }

  /** Seeded image batches and token ids, as the module takes them. */
  static List<Function<NDManager, NDList>> inputs() {
    List<Function<NDManager, NDList>> images = TorchFidelity.randomInputs(3, 4, new Shape(2, 3, 8, 8));
    java.util.Random rnd = new java.util.Random(5);
    List<Function<NDManager, NDList>> out = new java.util.ArrayList<>();
    for (Function<NDManager, NDList> img : images) {
      long[] ids = rnd.longs(10, 0, 100).toArray();
      out.add(m -> {
        NDList l = img.apply(m);
        l.add(m.create(ids, new Shape(2, 5)));
        return l;
      });
    }
    return out;
  }

  static float[] run(Model model, Function<NDManager, NDList> in) throws Exception {
    try (Predictor<NDList, NDList> p = model.newPredictor(new NoopTranslator());
        NDManager m = model.getNDManager().newSubManager()) {
      return p.predict(in.apply(m)).head().toFloatArray();
    }
  }
}
