package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.format.EncodedTensor;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.function.UnaryOperator;

/**
 * Test helper: copies a {@code .cai} tensor by tensor with {@link CaiWriter}, changing what a
 * hostile or buggy writer would (a tensor's info or payload, or leaving a tensor out). Every
 * checksum of the copy is right, so only the change itself can be caught.
 */
public final class CaiRewrite {
  /** What to write for one tensor; return null to leave it out. */
  public interface Edit {
    EncodedTensor apply(TensorInfo info, CaiReader.StoredTensor stored);
  }

  private CaiRewrite() {}

  public static void copy(Path from, Path to, Edit edit) throws IOException {
    try (CaiReader r = CaiReader.open(from);
        CaiWriter w = CaiWriter.create(to, new LinkedHashMap<>(r.manifest()), r.graph(), null)) {
      for (CaiEntry e : r.entries()) {
        CaiReader.StoredTensor s = r.readStored(e.name());
        EncodedTensor t = edit.apply(e.info(), s);
        if (t != null) {
          w.write(t);
        }
      }
      w.finish();
    }
  }

  /** The tensor as it was (its payload after the zstd stage, stored without it). */
  public static EncodedTensor same(TensorInfo info, CaiReader.StoredTensor s) {
    ByteBuffer p = s.payload().duplicate();
    return new EncodedTensor(info, s.codec(), p, false, p.remaining(), s.entry().nmse(), s.entry().maxAbsError());
  }

  /** Copies with one tensor's info changed. */
  public static void withInfo(Path from, Path to, String name, UnaryOperator<TensorInfo> change) throws IOException {
    copy(from, to, (info, s) -> same(info.name().equals(name) ? change.apply(info) : info, s));
  }

  /** Copies without one tensor. */
  public static void without(Path from, Path to, String name) throws IOException {
    copy(from, to, (info, s) -> info.name().equals(name) ? null : same(info, s));
  }
}
