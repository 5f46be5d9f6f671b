package dev.selfbyt.cortexsdr.it.models;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The weight files the converter tests read, written by {@code src/main/python/weight_files.py}
 * with Debian's PyTorch (safetensors with json and struct, state dicts with {@code torch.save}),
 * independently of the project's writers; and the way back into an ONNX graph: decoded safetensors
 * weights put into the fp32 model by the names the fixture recorded ({@code names.json}), so that
 * ONNX Runtime measures them as it measures the ONNX route.
 */
public final class WeightFiles {
  /** Debian's Python, which sees python3-torch, python3-torchvision and python3-onnx. */
  public static final String PYTHON = "/usr/bin/python3";
  static final Path SCRIPT = Path.of("src/main/python/weight_files.py");

  private WeightFiles() {}

  /** Whether Debian's Python has torch, torchvision and onnx (else the tests say what to install). */
  public static boolean available() {
    try {
      Process p = new ProcessBuilder(PYTHON, "-c", "import torch, torchvision, onnx").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs the fixture script with {@code args}; returns its output, failing with it on a non-zero exit. */
  public static String run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(PYTHON, SCRIPT.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + rc + " (it needs Debian's python3-torch, "
          + "python3-torchvision and python3-onnx):\n" + out);
    }
    return out;
  }

  /** The script's output whatever its exit code (for checks that expect differences). */
  public static String output(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(PYTHON, SCRIPT.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  /**
   * The fp32 ONNX model with each weight the safetensors at {@code decoded} holds put back where
   * the fixture took it from ({@code names.json}: initializer name, transposed or not); written to
   * {@code target}.
   */
  public static Path intoOnnx(Path fp32, Path decoded, Path namesJson, Path target) throws IOException {
    Map<?, ?> names = (Map<?, ?>) Json.parse(Files.readString(namesJson));
    Map<String, ByteBuffer> byOnnxName = new HashMap<>();
    try (SafetensorsReader st = SafetensorsReader.open(decoded)) {
      for (TensorInfo t : st.tensors()) {
        Map<?, ?> n = (Map<?, ?>) names.get(t.name());
        if (n == null) {
          throw new IOException(t.name() + " is not in " + namesJson);
        }
        ByteBuffer b = st.read(t).bytes();
        ByteBuffer copy = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        if (Boolean.TRUE.equals(n.get("transposed"))) { // [out, in] back to MatMul's [in, out]
          long[] s = t.shape();
          int rows = (int) s[0];
          int cols = (int) s[1];
          int size = t.dtype().size();
          for (int c = 0; c < cols; c++) {
            for (int r = 0; r < rows; r++) {
              for (int k = 0; k < size; k++) {
                copy.put(b.get((r * cols + c) * size + k));
              }
            }
          }
          copy.flip();
        } else {
          copy.put(b).flip();
        }
        byOnnxName.put((String) n.get("onnx"), copy);
      }
    }
    ModelProto model = ModelProto.parseFrom(Files.readAllBytes(fp32));
    OnnxExporter.write(OnnxExporter.withWeights(model, byOnnxName::get), target);
    return target;
  }
}
