package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsWriter;
import dev.selfbyt.cortexsdr.converters.statedict.StateDictWriter;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.pytorch.CaiTorch;
import dev.selfbyt.cortexsdr.tensorflow.SavedModelWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cortexsdr decompress IN.cai -o OUT}: back to the source format, weights decoded. */
@Command(name = "decompress", mixinStandardHelpOptions = true, versionProvider = CortexSdrCommand.Version.class,
    description = "Write a .cai archive back in its source format (ONNX, TorchScript, SavedModel folder, "
        + "safetensors, PyTorch state dict), weights decoded. For a sharded safetensors set OUT is the index; the "
        + "shards go beside it.")
final class DecompressCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IN.cai")
  Path in;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT")
  Path out;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    try (CaiReader cai = CaiReader.open(in);
        ProgressBar bar = ProgressBar.open(spec, "decompressing", json)) {
      bar.follow(cai);
      if (SavedModelWriter.isSavedModel(cai)) {
        SavedModelWriter.write(cai, out);
      } else if (SafetensorsWriter.madeFrom(cai)) {
        SafetensorsWriter.write(cai, out);
      } else if (StateDictWriter.madeFrom(cai)) {
        StateDictWriter.write(cai, out);
      } else if (CaiTorch.isTorchScript(cai)) {
        CaiTorch.decompress(cai, out);
      } else {
        OnnxExporter.exportDecoded(cai, out);
      }
      bar.done();
    }
    long bytes = SavedModelCalibration.size(out);
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("output", out.toString());
      m.put("bytes", bytes);
      spec.commandLine().getOut().println(Json.write(m));
    } else {
      spec.commandLine().getOut().printf("%s -> %s (%,d bytes)%n", in, out, bytes);
    }
    return 0;
  }
}
