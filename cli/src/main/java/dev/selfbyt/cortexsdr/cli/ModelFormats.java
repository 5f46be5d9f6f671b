package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsReader;
import dev.selfbyt.cortexsdr.converters.statedict.StateDictReader;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.FileKind;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import dev.selfbyt.cortexsdr.pytorch.TorchScriptArchive;
import dev.selfbyt.cortexsdr.pytorch.TorchScriptReader;
import dev.selfbyt.cortexsdr.tensorflow.SavedModelReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a source model by its kind, judged by its content ({@link FileKind}), never by its name:
 * a {@code .cai} named {@code model.onnx} is refused as a {@code .cai}, an ONNX model named
 * {@code model.bin} is read. ONNX, TorchScript archives ({@code torch.jit.save}, read by {@link
 * TorchScriptReader}), safetensors (a file, or the index of a sharded set) and PyTorch state dicts
 * are read; a folder holding {@code saved_model.pb} is a TensorFlow SavedModel.
 */
final class ModelFormats {
  private ModelFormats() {}

  static TensorSource open(Path in) throws IOException {
    if (!Files.exists(in)) {
      throw new CaiException(in.toString(), null, "no such file");
    }
    if (Files.isDirectory(in)) {
      if (Files.exists(in.resolve("saved_model.pb")) || Files.exists(in.resolve("saved_model.pbtxt"))) {
        return SavedModelReader.open(in);
      }
      throw new CaiException(in.toString(), null, "is a folder without saved_model.pb; give the model file (.onnx, "
          + "TorchScript .pt, .safetensors) or a TensorFlow SavedModel folder");
    }
    FileKind kind = FileKind.of(in);
    String is = "this is " + kind.description();
    switch (kind) {
      case CAI -> throw new CaiException(in.toString(), null, "is already a .cai archive");
      case SAFETENSORS -> {
        return SafetensorsReader.open(in);
      }
      case JSON -> { // a sharded safetensors set's index, or a JSON file the reader names as not one
        return SafetensorsReader.open(in);
      }
      case TORCH_STATE_DICT, PICKLE -> { // PICKLE: the legacy torch.save format, refused by the reader
        return StateDictReader.open(in);
      }
      case TORCHSCRIPT -> {
        return TorchScriptReader.open(in);
      }
      case EMPTY, TEXT -> throw new CaiException(in.toString(), null, is + ", not an ONNX model");
      case ZIP -> {
        // code/ and constants.pkl: torch.jit.save's archive; a damaged zip: the reader says what is wrong
        if (TorchScriptArchive.isTorchScript(in) || !TorchScriptArchive.isReadableZip(in)) {
          return TorchScriptReader.open(in);
        }
        throw new CaiException(in.toString(), null, is + " (a PyTorch file?), not an ONNX model: "
            + "export the model to ONNX first");
      }
      case GZIP, NUMPY -> throw new CaiException(in.toString(), null, is + ", not an ONNX model");
      default -> {
        if (kind.isOtherModelFormat()) {
          throw new CaiException(in.toString(), null, is + "; this kind of model is not supported yet: convert it "
              + "to ONNX first");
        }
      }
    }
    // ONNX, or a kind the first bytes do not tell: the ONNX reader says what is wrong with it
    return OnnxModelReader.open(in);
  }
}
