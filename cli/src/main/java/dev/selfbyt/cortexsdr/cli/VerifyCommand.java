package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.converters.onnx.StoredGraphCheck;
import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsWriter;
import dev.selfbyt.cortexsdr.converters.statedict.StateDictWriter;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cortexsdr verify IN.cai}: every checksum, every tensor decoded (within the reader's
 * limits), then the directory against the stored graph ({@link StoredGraphCheck}), so that a file
 * that passes is safe for every runtime.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = CortexSdrCommand.Version.class,
    description = "Check a .cai archive: the whole-file checksum, every tensor decoded, and every weight the "
        + "stored graph uses present with the role its use implies.")
final class VerifyCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IN.cai")
  Path in;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    long start = System.nanoTime();
    int count;
    try (CaiReader cai = CaiReader.open(in);
        ProgressBar bar = ProgressBar.open(spec, "verifying", json)) {
      bar.follow(cai);
      cai.verify();
      StoredGraphCheck.check(cai); // what the runtimes trust beyond the payloads themselves
      SafetensorsWriter.check(cai); // and what decompress trusts for weight files
      StateDictWriter.check(cai);
      count = cai.entries().size();
      bar.done();
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("file", in.toString());
      m.put("ok", true);
      m.put("tensors", count);
      m.put("timeMs", ms);
      spec.commandLine().getOut().println(Json.write(m));
    } else {
      spec.commandLine().getOut().printf("%s: OK, checksums match and all %d tensors decode (%d ms)%n", in, count, ms);
    }
    return 0;
  }
}
