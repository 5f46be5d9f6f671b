package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.format.EncodedTensor;
import dev.selfbyt.cortexsdr.core.pipeline.TensorEncoder;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where one thread's time goes when it compresses a model, phase by phase, as thread CPU time
 * (steadier than wall time on a busy machine): the ONNX parse, reading a tensor and making its
 * floats, encoding with the error measurement (the pipeline's {@link TensorEncoder} without the
 * entropy stage), and zstd on the result. Best of {@code reps} passes after the first. It uses
 * only API that main's commit 2250c03 had, so it runs on the older jars too, as {@link
 * CompressBenchReport} does ({@code -cp OLD_CORE.jar:OLD_CONVERTERS.jar:benchmarks.jar}).
 *
 * <p>{@code java -cp benchmarks.jar dev.selfbyt.cortexsdr.it.bench.CompressPhaseReport MODEL.onnx
 * PRESET [REPS]}
 */
public final class CompressPhaseReport {
  private CompressPhaseReport() {}

  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    Preset preset = Preset.parse(args[1]);
    int reps = args.length > 2 ? Integer.parseInt(args[2]) : 15;
    ThreadMXBean tm = ManagementFactory.getThreadMXBean();
    CompressionPolicy policy = new CompressionPolicy(CompressionOptions.builder().preset(preset).build());
    TensorEncoder encoder = new TensorEncoder(null);
    ZstdStage zstd = new ZstdStage(3);
    double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
    for (int rep = 0; rep <= reps; rep++) {
      long[] t = new long[4];
      long c0 = tm.getCurrentThreadCpuTime();
      try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
        t[0] = tm.getCurrentThreadCpuTime() - c0;
        for (TensorInfo info : onnx.tensors()) {
          TensorPlan plan = policy.plan(info);
          long a = tm.getCurrentThreadCpuTime();
          TensorData data = onnx.read(info);
          if (info.dtype().isFloating()) {
            data.floats();
          }
          long b = tm.getCurrentThreadCpuTime();
          EncodedTensor e = encoder.encode(data, plan);
          long c = tm.getCurrentThreadCpuTime();
          zstd.compress(e.payload());
          long d = tm.getCurrentThreadCpuTime();
          t[1] += b - a;
          t[2] += c - b;
          t[3] += d - c;
        }
      }
      if (rep > 0) {
        for (int i = 0; i < 4; i++) {
          best[i] = Math.min(best[i], t[i] / 1e6);
        }
      }
    }
    System.out.printf(Locale.ROOT, "%s %s, one thread, CPU ms (best of %d): parse %.1f, read + floats %.1f, "
        + "encode + error %.1f, zstd %.1f; load average %.2f%n", model.getFileName(), preset.id(), reps, best[0],
        best[1], best[2], best[3], ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }
}
