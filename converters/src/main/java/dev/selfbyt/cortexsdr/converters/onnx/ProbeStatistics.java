package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The statistics GPTQ needs for one group of weights, collected by running a probe model
 * ({@link CalibrationGraphs#gramProbe}: the group's input, and with re-fitting the original
 * model's beside it) over the calibration samples in ONNX Runtime. {@link OnnxCalibrator} uses it
 * where the small sessions of {@link GroupGrams} do not apply (re-fitting, or small sessions off).
 */
final class ProbeStatistics {
  private ProbeStatistics() {}

  /** What the runs collect for one group: {@code X^T X}, and {@code Xq^T X} when re-fitting (else null). */
  record Statistics(Hessian gram, double[] cross) {}

  /**
   * Runs {@code probe} on every sample. The samples run on all threads at once, one ONNX Runtime
   * thread each: faster than one sample on all threads for short inputs (as {@link BitAllocator}
   * measures). Worker w sums samples w, w + W, ... in order into its own sums, added up in worker
   * order: the same result on every run. {@code t0}: when the caller started (the session's
   * building and the runs are counted in {@link CalibrationClock} from there); a failure names
   * {@code location} and {@code weight}.
   */
  static Statistics run(String location, String weight, ModelProto probe, int k, boolean cross,
      List<Map<String, OnnxCalibrator.Input>> samples, int threads, long t0) throws CaiException {
    Hessian h = new Hessian(k);
    double[] c = cross ? new double[k * k] : null;
    OrtEnvironment env = OrtEnvironments.get();
    int workers = Math.max(1, Math.min(threads, samples.size()));
    ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
      Thread t = new Thread(r, "cortexsdr-calibrate");
      t.setDaemon(true);
      return t;
    });
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(workers > 1 ? 1 : threads);
      try (OrtSession s = env.createSession(probe.toByteArray(), o)) {
        t0 = CalibrationClock.since(CalibrationClock.GPTQ_SESSION, t0);
        List<Future<Statistics>> parts = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
          int first = w;
          parts.add(pool.submit(() -> {
            Hessian hw = new Hessian(k);
            double[] cw = cross ? new double[k * k] : null;
            for (int i = first; i < samples.size(); i += workers) {
              List<float[]> out = OnnxCalibrator.runOutputs(env, s, samples.get(i));
              hw.addGram(out.get(0), 1);
              if (cross) {
                float[] x = out.get(1);
                for (int j = 0; j < cw.length; j++) {
                  cw[j] += x[j];
                }
              }
            }
            return new Statistics(hw, cw);
          }));
        }
        for (Future<Statistics> f : parts) {
          Statistics part = f.get();
          h.add(part.gram());
          if (cross) {
            for (int j = 0; j < c.length; j++) {
              c[j] += part.cross()[j];
            }
          }
        }
        CalibrationClock.since(CalibrationClock.GPTQ_RUNS, t0);
      }
    } catch (OrtException | ExecutionException | InterruptedException e) {
      throw CalibrationFailure.of(location, weight, e);
    } finally {
      pool.shutdownNow();
    }
    return new Statistics(h, c);
  }
}
