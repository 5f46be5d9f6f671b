package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.cli.CortexSdrCommand;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.ControlFlowModels;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calibration inputs and the output check of {@code cortexsdr compress} on real models, run as a
 * user runs the command: models exported by Debian's PyTorch ({@code src/main/python/
 * calibration_models.py}: a streaming GRU whose state is an input and an output, a token model with
 * a bool input) with fixtures numpy and Python's wave module wrote (.npz, .wav, and bad ones),
 * MiniLM with a pinned sequence length, and M-LSD. Each input kind works, and each bad input fails
 * with one line naming the file and the cause.
 */
class CalibrationInputsIT {
  static final String PYTHON = "/usr/bin/python3";
  @TempDir static Path dir;

  record Run(int code, String out, String err) {}

  static Run cortexsdr(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CortexSdrCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  @BeforeAll
  static void models() throws Exception {
    if (!ControlFlowModels.hasTorch(PYTHON)) {
      return; // the torch tests skip, saying so
    }
    Path tool = Path.of("src/main/python/calibration_models.py");
    if (!Files.exists(tool)) {
      tool = Path.of("integration-tests/src/main/python/calibration_models.py");
    }
    Process p = new ProcessBuilder(PYTHON, tool.toAbsolutePath().toString(), dir.toString())
        .redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), log);
  }

  private static Path torch(String name) {
    Assumptions.assumeTrue(ControlFlowModels.hasTorch(PYTHON), PYTHON + " has no torch (apt-get install python3-torch)");
    return dir.resolve(name);
  }

  @Test
  void wavStreamsThroughAStatefulGru() throws Exception {
    Path model = torch("stream_gru.onnx");
    Path cai = dir.resolve("gru.cai");
    Run r = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate", dir.resolve("wav").toString(),
        "--sample-rate", "16000", "--calibration-samples", "120");
    assertEquals(0, r.code(), r.err());
    // three files (16 kHz mono, 8 kHz stereo, 44.1 kHz mono) resampled and cut into chunks of 160
    assertTrue(r.out().contains("output fidelity on 120 samples (calibration audio of wav, streamed with state "
        + "state_out -> state_in): logits cosine mean"), r.out());
    try (CaiReader c = CaiReader.open(cai)) {
      Map<?, ?> check = (Map<?, ?>) c.manifest().get("outputCheck");
      assertEquals(true, check.get("passed"), check.toString());
    }
    Run explicit = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate",
        dir.resolve("wav").toString(), "--sample-rate", "16000", "--state", "state_out=state_in",
        "--calibration-samples", "20");
    assertEquals(0, explicit.code(), explicit.err());
    Run wrongState = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate", "random",
        "--state", "state_out=state");
    assertEquals(1, wrongState.code());
    assertTrue(wrongState.err().contains("no input 'state'") && wrongState.err().contains("audio, state_in"),
        wrongState.err());
    Run bad = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate",
        dir.resolve("wav_bad").toString(), "--sample-rate", "16000");
    assertEquals(1, bad.code());
    assertTrue(bad.err().contains("x.wav") && bad.err().contains("only 16-bit PCM"), bad.err());
    Run npy = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate",
        dir.resolve("npy_bad").toString());
    assertEquals(1, npy.code());
    assertTrue(npy.err().contains("x.npy") && npy.err().contains("truncated"), npy.err());
  }

  @Test
  void npzAndRandomWithABoolInput() throws Exception {
    Path model = torch("bool_tokens.onnx");
    Path cai = dir.resolve("tokens.cai");
    Run npz = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--preset", "int4", "--calibrate",
        dir.resolve("npz").toString());
    assertEquals(0, npz.code(), npz.err());
    assertTrue(npz.out().contains("output fidelity on 4 samples (calibration arrays of npz): pooled cosine mean"),
        npz.out());
    Run random = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--preset", "int4", "--calibrate",
        "random", "--calibration-samples", "16");
    assertEquals(0, random.code(), random.err());
    assertTrue(random.out().contains("dynamic sizes seq=32"), random.out());
    Run bad = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate",
        dir.resolve("npz_bad").toString());
    assertEquals(1, bad.code());
    assertTrue(bad.err().contains("b.npz") && bad.err().contains("'keep'") && bad.err().contains("bool input"),
        bad.err());
  }

  @Test
  void miniLmWithAPinnedSequenceLength() throws Exception {
    Path model = dir.resolve("all-minilm-l6-v2.onnx");
    try (InputStream in = CalibrationInputsIT.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      Files.copy(in, model, StandardCopyOption.REPLACE_EXISTING);
    }
    Path cai = dir.resolve("minilm.cai");
    Run r = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--input-shape", "input_ids=1,16");
    assertEquals(0, r.code(), r.err());
    // the attention mask and token types share input_ids' symbolic sequence length: no size left to try
    assertTrue(r.out().contains("output fidelity on 8 samples (seeded random inputs (seed 7)): last_hidden_state "
        + "cosine mean 0.99"), r.out());
    assertTrue(r.out().contains("above 0.999"), r.out());
    Run bad = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--input-shape", "input_ids=1,16,384");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("rank 3") && bad.err().contains("input_ids"), bad.err());
  }

  @Test
  void mlsdIsCheckedOutputByOutput() throws Exception {
    Path model = MobyDick.dataDir().resolve("mlsd/package/ONNX/mlsd_320x320_tiny.onnx");
    Path cai = dir.resolve("mlsd.cai");
    Run r = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--input-shape",
        "input_image_with_alpha:0=1,320,320,4", "--json");
    assertEquals(0, r.code(), r.err());
    try (CaiReader c = CaiReader.open(cai)) {
      Map<?, ?> check = (Map<?, ?>) c.manifest().get("outputCheck");
      List<?> outputs = (List<?>) check.get("outputs");
      assertEquals(List.of("offsets", "scores"), outputs.stream().map(o -> ((Map<?, ?>) o).get("name")).toList());
      System.out.println("M-LSD tiny int8 output check: " + check);
    }
    Run wrong = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--input-shape",
        "input_image_with_alpha:0=1,256,256,4");
    assertEquals(2, wrong.code());
    assertTrue(wrong.err().contains("dimension 1 is 256"), wrong.err());
  }
}
