package dev.selfbyt.cortexsdr.it.torch;

import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Real TorchScript files made by the build with Debian's PyTorch ({@code /usr/bin/python3}; .ci/run
 * installs python3-torch and python3-torchvision), each written once into a folder and reused: the
 * sentence encoders converted from their ONNX files (the very network, see {@code
 * onnx_to_torchscript.py}) and torchvision architectures with seeded weights.
 */
public final class TorchFixtures {
  /** The torchvision architectures used. */
  public enum Vision {
    RESNET50("resnet50", "ResNet-50"),
    VIT_B_16("vit_b_16", "ViT-B/16");

    private final String arch;
    private final String displayName;

    Vision(String arch, String displayName) {
      this.arch = arch;
      this.displayName = displayName;
    }

    public String displayName() {
      return displayName;
    }
  }

  private final Path dir;
  private final Path python;

  /**
   * Fixtures in {@code dir}, made with the scripts under {@code pythonDir}
   * ({@code integration-tests/src/main/python}).
   */
  public TorchFixtures(Path dir, Path pythonDir) {
    this.dir = dir;
    this.python = pythonDir;
  }

  /** Fixtures in {@code target/torchscript}, scripts from {@code src/main/python} (the module's folder). */
  public static TorchFixtures inModule() {
    Path base = Files.isDirectory(Path.of("integration-tests")) ? Path.of("integration-tests") : Path.of(".");
    return new TorchFixtures(base.resolve("target/torchscript"), base.resolve("src/main/python"));
  }

  public Path dir() {
    return dir;
  }

  /** A sentence encoder's TorchScript, converted from its fp32 ONNX file. */
  public synchronized Path encoder(RealModel model) throws IOException, InterruptedException {
    Path d = Files.createDirectories(dir.resolve(model.name().toLowerCase(Locale.ROOT)));
    Path pt = d.resolve("model.pt");
    if (!Files.isRegularFile(pt)) {
      run(List.of("/usr/bin/python3", python.resolve("onnx_to_torchscript.py").toString(), model.onnx(d).toString(),
          pt.toString(), "--seq-len", "128"), pt);
    }
    return pt;
  }

  /** A torchvision architecture with weights from seed 0. */
  public synchronized Path vision(Vision v) throws IOException, InterruptedException {
    Path pt = Files.createDirectories(dir).resolve(v.arch + ".pt");
    if (!Files.isRegularFile(pt)) {
      run(List.of("/usr/bin/python3", python.resolve("torchvision_torchscript.py").toString(), v.arch, pt.toString(),
          "--seed", "0"), pt);
    }
    return pt;
  }

  private static void run(List<String> cmd, Path out) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT)
        .start();
    int rc = p.waitFor();
    if (rc != 0 || !Files.isRegularFile(out)) {
      throw new IOException(String.join(" ", cmd) + " failed (exit " + rc + "); it needs Debian's python3-torch, "
          + "python3-torchvision and python3-onnx under /usr/bin/python3");
    }
  }
}
