package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * Whether an ONNX model accepts a sample: runs it once in ONNX Runtime and answers null, or the
 * runtime's message when it fails. For {@link RandomInputs#generate}'s size trials. The session
 * is made on the first question only (models whose inputs are all fixed never pay for it); close
 * it after.
 */
public final class ModelTrial implements Function<Map<String, OnnxCalibrator.Input>, String>, AutoCloseable {
  private final Path model;
  private final int threads;
  private OrtSession.SessionOptions options;
  private OrtSession session;

  public ModelTrial(Path model, int threads) {
    this.model = model;
    this.threads = threads;
  }

  /** Session options for checks: {@code threads} intra-op threads, ONNX Runtime's warnings off (errors only). */
  static OrtSession.SessionOptions sessionOptions(int threads) throws OrtException {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(threads);
    // "initializer appears in graph inputs", "removing unused initializer": advice for model authors, not users
    o.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
    return o;
  }

  /** The model's session, made on first use. */
  public OrtSession session() throws OrtException {
    if (session == null) {
      options = sessionOptions(threads);
      session = OrtEnvironments.get().createSession(model.toString(), options);
    }
    return session;
  }

  @Override
  public String apply(Map<String, OnnxCalibrator.Input> sample) {
    try {
      OrtRunner.run(OrtEnvironments.get(), session(), sample);
      return null;
    } catch (OrtException | RuntimeException e) {
      String m = String.valueOf(e.getMessage());
      return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }
  }

  @Override
  public void close() throws OrtException {
    if (session != null) {
      session.close();
    }
    if (options != null) {
      options.close();
    }
  }
}
