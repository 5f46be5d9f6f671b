package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mixed precision offered entropy-coded steps for a vocabulary table (all-MiniLM-L6-v2): only the
 * table a Gather reads by a model input gets them, each is measured on the model's output beside
 * the block-wise widths, and the plan can choose one.
 */
class MixedPrecisionTablesTest {
  static final String TABLE = "embeddings.word_embeddings.weight";

  @TempDir Path dir;

  @Test
  void onlyTheTableIndexedByTheTokenIdsIsOfferedSteps() throws Exception {
    try (OnnxModelReader onnx = OnnxModelReader.open(OnnxTestModels.miniLm(dir))) {
      Map<String, List<TensorCodec>> offered = MixedPrecision.tableCandidates(onnx,
          CompressionOptions.builder().preset(Preset.INT4).build());
      // position embeddings are gathered by computed indices, token types are too small to quantize
      assertEquals(List.of(TABLE), List.copyOf(offered.keySet()));
      assertEquals(MixedPrecision.TABLE_STEPS.length, offered.get(TABLE).size());
      assertEquals(EntropyQuantCodec.of(MixedPrecision.TABLE_STEPS[0]), offered.get(TABLE).get(0));
    }
  }

  @Test
  void everyStepIsMeasuredAndOneBeatsABlockCodeInBytesAndError() throws Exception {
    Path model = OnnxTestModels.miniLm(dir);
    try (OnnxModelReader onnx = OnnxModelReader.open(model); ModelTrial trial = new ModelTrial(model, 2)) {
      List<Map<String, OnnxCalibrator.Input>> samples = RandomInputs.of(ModelInputs.of(onnx)).generate(4, trial)
          .samples();
      Map<String, List<TensorCodec>> offered = MixedPrecision.tableCandidates(onnx,
          CompressionOptions.builder().preset(Preset.INT4).build());
      List<BitAllocator.Effect> effects = new BitAllocator(onnx, MixedPrecision.candidates(32, false), 2)
          .extraCandidates(offered).measure(List.of(TABLE), samples, 2);
      List<BitAllocator.Effect> steps = effects.stream().filter(e -> e.codec() instanceof EntropyQuantCodec).toList();
      List<BitAllocator.Effect> blocks = effects.stream().filter(e -> e.codec() instanceof QuantCodec).toList();
      assertEquals(MixedPrecision.TABLE_STEPS.length, steps.size());
      assertEquals(MixedPrecision.candidates(32, false).size(), blocks.size());
      for (int i = 1; i < steps.size(); i++) {
        assertTrue(steps.get(i).bytes() < steps.get(i - 1).bytes(), "a coarser step is smaller: " + steps.get(i));
      }
      for (BitAllocator.Effect e : steps) {
        assertEquals(samples.size(), e.perSample().length, "measured on every sample, not predicted");
        assertTrue(e.distortion() > 0, e.codec() + " moves the output");
      }
      assertTrue(steps.get(steps.size() - 1).distortion() > steps.get(0).distortion(), steps.toString());
      boolean wins = false;
      for (BitAllocator.Effect s : steps) {
        for (BitAllocator.Effect b : blocks) {
          wins |= s.bytes() < b.bytes() && s.distortion() <= b.distortion();
        }
      }
      assertTrue(wins, "some step is smaller than some block code at no more output error: " + effects);

      // a loose target takes the smallest candidate, which is the coarsest step
      MixedPrecision.Plan loose = MixedPrecision.plan(effects, 0.5, 0.4);
      assertEquals(EntropyQuantCodec.of(MixedPrecision.TABLE_STEPS[MixedPrecision.TABLE_STEPS.length - 1]),
          loose.codec(TABLE));
      assertEquals(null, loose.blockCodec(TABLE), "GPTQ has no block code to round this table to");
      assertTrue(loose.histogram().containsKey("entropy 1.30"), loose.histogram().toString());
    }
  }
}
