package dev.selfbyt.cortexsdr.pytorch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The small TorchScript modules of the tests, written once per build by src/test/python/tiny_torchscript.py
 * with Debian's PyTorch (/usr/bin/python3; .ci/run installs python3-torch).
 */
final class TinyModels {
  static final Path DIR = Path.of("target", "tiny-torchscript");

  private TinyModels() {}

  static synchronized Path traced() throws IOException, InterruptedException {
    return make("tiny_traced.pt");
  }

  static synchronized Path scripted() throws IOException, InterruptedException {
    return make("tiny_scripted.pt");
  }

  private static Path make(String name) throws IOException, InterruptedException {
    Path p = DIR.resolve(name);
    if (!Files.isRegularFile(p)) {
      List<String> cmd = List.of("/usr/bin/python3", "src/test/python/tiny_torchscript.py", DIR.toString());
      Process proc = new ProcessBuilder(cmd).inheritIO().start();
      if (proc.waitFor() != 0 || !Files.isRegularFile(p)) {
        throw new IOException(String.join(" ", cmd) + " failed: it needs Debian's python3-torch under /usr/bin/python3");
      }
    }
    return p;
  }
}
