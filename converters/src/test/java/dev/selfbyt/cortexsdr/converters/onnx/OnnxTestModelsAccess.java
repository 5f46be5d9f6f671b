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
}
