package dev.selfbyt.cortexsdr.pytorch;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.Translator;
import dev.selfbyt.cortexsdr.converters.torchzip.TorchZipWriter;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * A {@code .cai} made from TorchScript, back in PyTorch: {@link #load} decodes its weights into the
 * module skeleton it keeps and gives a DJL {@link ZooModel} on the PyTorch engine; {@link
 * #decompress} writes a normal TorchScript file that {@code torch.jit.load} and DJL read.
 *
 * <pre>{@code
 * try (ZooModel<NDList, NDList> model = CaiTorch.load(Path.of("resnet50.cai"), new NoopTranslator());
 *     Predictor<NDList, NDList> p = model.newPredictor()) {
 *   NDList out = p.predict(new NDList(model.getNDManager().randomNormal(new Shape(1, 3, 224, 224))));
 * }
 * CaiTorch.decompress(Path.of("resnet50.cai"), Path.of("resnet50.decoded.pt"));
 * }</pre>
 */
public final class CaiTorch {
  private CaiTorch() {}

  /** Whether the archive was made from TorchScript. */
  public static boolean isTorchScript(CaiReader cai) {
    Object src = cai.manifest().get("source");
    return src instanceof Map<?, ?> m && TorchScriptReader.FORMAT.equals(m.get("format"));
  }

  /** The skeleton stored in the archive; fails when it was not made from TorchScript. */
  public static TorchScriptSkeleton skeleton(CaiReader cai) throws CaiException {
    if (!isTorchScript(cai)) {
      Object src = cai.manifest().get("source");
      Object format = src instanceof Map<?, ?> m ? m.get("format") : null;
      throw new TorchScriptFormatException(cai.path().toString(), null, "was made from " + (format == null
          ? "an unknown format" : "a " + format + " model") + ", not TorchScript");
    }
    return TorchScriptSkeleton.decode(cai.path().toString(), cai.graph());
  }

  /**
   * Writes the TorchScript archive with decoded weights to {@code out}.
   *
   * @throws CaiException when a weight is missing from the archive, does not decode, or does not fit
   *     its storage in the skeleton
   */
  public static void write(CaiReader cai, OutputStream out) throws IOException {
    checkedSkeleton(cai).write(cai.path().toString(), out, name -> cai.read(name).bytes());
  }

  /** The skeleton, after checking that the archive holds every weight it needs. */
  private static TorchScriptSkeleton checkedSkeleton(CaiReader cai) throws IOException {
    TorchScriptSkeleton s = skeleton(cai);
    String file = cai.path().toString();
    for (TorchScriptSkeleton.Record r : s.storages()) {
      if (!cai.contains(r.tensor())) {
        throw new TorchScriptFormatException(file, r.tensor(), "is missing from the archive, but the module's storage "
            + r.name() + " needs it");
      }
    }
    return s;
  }

  /** The TorchScript archive with decoded weights, in memory. */
  public static byte[] torchScript(CaiReader cai) throws IOException {
    return inMemory(cai).toByteArray();
  }

  private static Buffer inMemory(CaiReader cai) throws IOException {
    TorchScriptSkeleton s = skeleton(cai);
    Buffer bytes = new Buffer((int) Math.min(Integer.MAX_VALUE - 16,
        s.storageBytes() + 128L * (s.records().size() + 16) + 65536));
    write(cai, bytes);
    return bytes;
  }

  /** An in-memory archive read back without another copy of it. */
  private static final class Buffer extends ByteArrayOutputStream {
    Buffer(int size) {
      super(size);
    }

    ByteArrayInputStream reader() {
      return new ByteArrayInputStream(buf, 0, count);
    }
  }

  /**
   * Writes a TorchScript file with decoded weights. The file is written to a temporary file beside the
   * target and renamed, so a failure leaves nothing.
   */
  public static void decompress(Path cai, Path target) throws IOException {
    try (CaiReader r = CaiReader.open(cai)) {
      decompress(r, target);
    }
  }

  /** {@link #decompress(Path, Path)} from an open archive. */
  public static void decompress(CaiReader cai, Path target) throws IOException {
    TorchScriptSkeleton s = checkedSkeleton(cai); // a .cai of another format fails before any file is made
    TorchZipWriter.writeFile(target, zip -> s.write(cai.path().toString(), zip, name -> cai.read(name).bytes()));
  }

  /** {@link #load(Path, Translator, Device)} on the CPU. */
  public static <I, O> ZooModel<I, O> load(Path cai, Translator<I, O> translator) throws IOException {
    return load(cai, translator, Device.cpu());
  }

  /**
   * Loads a {@code .cai} made from TorchScript into DJL's PyTorch engine: the weights are decoded
   * into the stored module, which PyTorch reads from memory (nothing is written to disk). The model
   * is named after the file.
   *
   * @throws IllegalStateException when PyTorch's native library is not available ({@link PyTorchNatives})
   * @throws CaiException when the archive is damaged, was not made from TorchScript, or its weights do
   *     not fit the module
   */
  public static <I, O> ZooModel<I, O> load(Path cai, Translator<I, O> translator, Device device) throws IOException {
    Buffer pt;
    try (CaiReader r = CaiReader.open(cai)) {
      pt = inMemory(r);
    }
    PyTorchNatives.require("loading " + cai + " into PyTorch");
    String name = cai.getFileName().toString().replaceFirst("\\.cai$", "");
    Model model = Model.newInstance(name, device, PyTorchNatives.ENGINE);
    try {
      model.load(pt.reader(), Map.of());
    } catch (MalformedModelException | RuntimeException e) {
      model.close();
      throw new TorchScriptFormatException(cai.toString(), null, "PyTorch cannot load the module it holds: "
          + e.getMessage(), e);
    }
    return new ZooModel<>(model, translator);
  }
}
