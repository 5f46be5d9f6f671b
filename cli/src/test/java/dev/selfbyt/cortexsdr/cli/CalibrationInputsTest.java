package dev.selfbyt.cortexsdr.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text calibration data for int8 activations: padded batches of {@value CalibrationInputs#BATCH}
 * lines first (their padding widens a per-tensor range as it does in use), then every line alone.
 */
class CalibrationInputsTest {
  @TempDir Path dir;

  @Test
  void textForInt8ActivationsHoldsPaddedBatchesBeforeTheSingleLines() throws Exception {
    Path model = dir.resolve("all-minilm-l6-v2.onnx");
    Path tokenizer = dir.resolve("all-minilm-l6-v2-tokenizer.json");
    for (Path p : List.of(model, tokenizer)) {
      try (InputStream in = CalibrationInputsTest.class.getResourceAsStream("/" + p.getFileName())) {
        Files.copy(in, p);
      }
    }
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      lines.add("Call me Ishmael" + " and some years ago".repeat(i % 5));
    }
    Path text = Files.write(dir.resolve("lines.txt"), lines);
    List<Map<String, OnnxCalibrator.Input>> plain;
    List<Map<String, OnnxCalibrator.Input>> batched;
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      plain = CalibrationInputs.load(onnx, model, text.toString(), null, 100, CalibrationInputs.ImageRange.UNIT);
      batched = CalibrationInputs.load(onnx, model, text.toString(), null, 100, CalibrationInputs.ImageRange.UNIT,
          true);
    }
    assertEquals(20, plain.size());
    assertEquals(22, batched.size(), "a batch of 16 and one of 4, then the 20 lines");
    for (int i = 0; i < 20; i++) {
      assertArrayEquals(plain.get(i).get("input_ids").int64(), batched.get(i + 2).get("input_ids").int64(), "line " + i);
    }
    OnnxCalibrator.Input ids = batched.get(0).get("input_ids");
    OnnxCalibrator.Input mask = batched.get(0).get(CalibrationInputs.TEXT_MASK);
    assertEquals(16, ids.shape()[0]);
    int n = (int) ids.shape()[1];
    for (int b = 0; b < 16; b++) {
      long[] one = plain.get(b).get("input_ids").int64();
      assertTrue(one.length <= n, "padded to the longest line of the batch");
      long[] row = java.util.Arrays.copyOfRange(ids.int64(), b * n, b * n + n);
      assertArrayEquals(one, java.util.Arrays.copyOf(row, one.length), "line " + b + " as tokenized alone");
      for (int p = 0; p < n; p++) {
        assertEquals(p < one.length ? 1 : 0, mask.int64()[b * n + p], "line " + b + " position " + p);
      }
    }
    assertEquals(4, batched.get(1).get("input_ids").shape()[0]);
  }
}
