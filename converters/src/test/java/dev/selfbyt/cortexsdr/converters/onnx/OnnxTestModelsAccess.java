package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import java.io.IOException;
import java.nio.file.Path;

/** Public door to {@link OnnxTestModels} for the tests of other modules (cli, integration tests). */
public final class OnnxTestModelsAccess {
  private OnnxTestModelsAccess() {}

  public static ModelProto matMul(int k, int n, boolean external, Path dir) throws IOException {
    return OnnxTestModels.matMul(k, n, external, dir);
  }

  public static ModelProto convNet() {
    return OnnxTestModels.convNet();
  }

  /** The model int8 rounding breaks through its weight W1 ({@link OutputCheckTest}). */
  public static ModelProto sensitive() {
    return OutputCheckTest.sensitive();
  }

  /** Token ids into a table, a bool input and an attention mask ({@link RandomInputsTest}). */
  public static ModelProto tokens() {
    return RandomInputsTest.tokens();
  }

  /** A GRU whose state {@code hn} feeds {@code h0} ({@link StatefulStreamsTest}). */
  public static ModelProto gru() {
    return StatefulStreamsTest.gru();
  }

  /** A .npy image as numpy writes it. */
  public static byte[] npy(String descr, String shape, byte[] data) {
    return NpyFilesTest.npy(descr, shape, data);
  }

  /** A 16-bit PCM wav image. */
  public static byte[] wav(int rate, int channels, short[] samples) {
    return WavAudioTest.wav(rate, channels, 16, 1, samples);
  }
}
