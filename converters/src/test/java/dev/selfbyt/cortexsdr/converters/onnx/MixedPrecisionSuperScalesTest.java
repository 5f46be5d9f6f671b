package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Mixed precision offered super-block scales: every candidate twice, and rare rows follow their table's scales. */
class MixedPrecisionSuperScalesTest {
  @Test
  void superScalesDoubleTheCandidatesAndCostFewerBytes() {
    List<QuantCodec> plain = MixedPrecision.candidates(32, false);
    List<QuantCodec> both = MixedPrecision.candidates(32, false, true);
    assertEquals(2 * plain.size(), both.size());
    assertEquals(plain, both.subList(0, plain.size()));
    for (int i = 0; i < plain.size(); i++) {
      assertEquals(plain.get(i).withSuperScales(), both.get(plain.size() + i));
    }
    MixedPrecision.Plan p = new MixedPrecision.Plan(Map.of("w", QuantCodec.blockwise(5, false, 32).withSuperScales()),
        0.99, 0.98);
    assertEquals("{5b/32s=1}", p.histogram().toString());
  }

  @Test
  void rareRowsOfASuperScaledTableAreSuperScaledToo() {
    QuantCodec frequent = QuantCodec.blockwise(4, false, 32).withSuperScales();
    MixedPrecision.Plan p = new MixedPrecision.Plan(Map.of("table", frequent), 0.995, 0.99);
    long[] counts = new long[64];
    for (int i = 0; i < counts.length; i += 3) {
      counts[i] = 2;
    }
    CompressionOptions o = p.options(CompressionOptions.builder(), Map.of("table", counts), 3).build();
    TieredQuantCodec t = (TieredQuantCodec) o.overrides().values().iterator().next();
    assertEquals(List.of(frequent, QuantCodec.blockwise(3, false, 32).withSuperScales()), t.tiers());
    assertTrue(t.tiers().stream().allMatch(c -> ((QuantCodec) c).superScales()));
  }

  @Test
  void rareRowsCanTakeACodebookAndTablesTheChooserDeclinesKeepTheirPlan() {
    QuantCodec frequent = QuantCodec.blockwise(3, false, 128).withSuperScales();
    QuantCodec weight = QuantCodec.blockwise(5, false, 32);
    MixedPrecision.Plan p = new MixedPrecision.Plan(Map.of("table", frequent, "small", QuantCodec.blockwise(2, false, 32),
        "w", weight), 0.99, 0.98);
    long[] counts = new long[64];
    counts[5] = 1;
    CodebookQuantCodec rare = CodebookQuantCodec.blockwise(2, 32).withSuperScales();
    CompressionOptions o = p.options(CompressionOptions.builder(), Map.of("table", counts, "small", counts),
        c -> c.bits() > 2 ? rare : null).build();
    Map<String, TensorCodec> byName = new java.util.HashMap<>();
    o.overrides().forEach((pattern, c) -> byName.put(pattern.pattern().replace("\\Q", "").replace("\\E", ""), c));
    assertEquals(List.of(frequent, rare), ((TieredQuantCodec) byName.get("table")).tiers());
    assertEquals(QuantCodec.blockwise(2, false, 32), byName.get("small"), "no narrower tier offered: the plan");
    assertEquals(weight, byName.get("w"), "not a counted table: the plan");
  }
}
