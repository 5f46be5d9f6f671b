package dev.selfbyt.cortexsdr.onnxops;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import java.lang.ref.Cleaner;
import java.util.List;

/**
 * A {@code .cai} open in ONNX Runtime, from {@link CaiOrt#open}: the {@link OrtSession} and the
 * decoded weights it reads in place (direct buffers handed over as external initializers), owned
 * together. Close it (try-with-resources) to release both; {@link #session()} must not be used
 * after that. If it is never closed, the buffers are released once the session is unreachable.
 */
public final class CaiOrtSession implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();

  private final OrtSession session;
  private final OrtVersion ortVersion;
  private final List<QuantizedOnnxExporter.Form> forms;
  private final long decodedBytes;
  private final Cleaner.Cleanable buffers;

  CaiOrtSession(OrtSession session, OrtVersion ortVersion, List<QuantizedOnnxExporter.Form> forms,
      List<OnnxTensor> decoded, long decodedBytes) {
    this.session = session;
    this.ortVersion = ortVersion;
    this.forms = List.copyOf(forms);
    this.decodedBytes = decodedBytes;
    // registered on the session, not on this object: a caller keeping only session() keeps the buffers
    this.buffers = CLEANER.register(session, new Release(List.copyOf(decoded)));
  }

  /** The ONNX Runtime session; run it as any other. */
  public OrtSession session() {
    return session;
  }

  /** The ONNX Runtime release the graph was rebuilt for. */
  public OrtVersion ortVersion() {
    return ortVersion;
  }

  /** How each weight was given to ONNX Runtime, in file order. */
  public List<QuantizedOnnxExporter.Form> forms() {
    return forms;
  }

  /** Bytes of the decoded weights this object holds in direct buffers. */
  public long decodedBytes() {
    return decodedBytes;
  }

  /**
   * Closes the session (unless its owner closed it already, e.g. through a wrapper that closes
   * what it is given), then frees the decoded weights' buffers. Closing twice does nothing more.
   */
  @Override
  public void close() throws OrtException {
    try {
      session.close();
    } catch (IllegalStateException alreadyClosed) {
      // ONNX Runtime's "Trying to close an already closed OrtSession": nothing left to close
    } finally {
      buffers.clean();
    }
  }

  /** Closes the decoded tensors (their buffers then go too). */
  private record Release(List<OnnxTensor> tensors) implements Runnable {
    @Override
    public void run() {
      for (OnnxTensor t : tensors) {
        t.close();
      }
    }
  }
}
