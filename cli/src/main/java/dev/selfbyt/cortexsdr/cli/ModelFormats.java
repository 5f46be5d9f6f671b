package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Opens a source model by its kind (from its name, then its first bytes). */
final class ModelFormats {
  private ModelFormats() {}

  static TensorSource open(Path in) throws IOException {
    if (!Files.exists(in)) {
      throw new CaiException(in.toString(), null, "no such file");
    }
    if (Files.isDirectory(in)) {
      throw new CaiException(in.toString(), null, "is a folder; give the model file (.onnx)");
    }
    String name = in.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".cai")) {
      throw new CaiException(in.toString(), null, "is already a .cai archive");
    }
    if (name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".safetensors") || name.endsWith(".pb")) {
      throw new CaiException(in.toString(), null, "this kind of model is not supported yet: convert it to ONNX first");
    }
    byte[] head = new byte[4];
    try (InputStream s = Files.newInputStream(in)) {
      s.readNBytes(head, 0, 4);
    }
    if (head[0] == 'P' && head[1] == 'K') {
      throw new CaiException(in.toString(), null, "is a zip archive (a PyTorch file?), not an ONNX model");
    }
    return OnnxModelReader.open(in);
  }
}
