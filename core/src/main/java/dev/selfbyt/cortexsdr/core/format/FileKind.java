package dev.selfbyt.cortexsdr.core.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What a file is, judged by its first bytes (never by its name): a {@code .cai}, an ONNX model,
 * one of the model formats this project does not read yet, a zip, a text file. Used for the
 * messages of a file that is not what a command expects ("this is a text file" rather than the
 * first bytes in hex) and by the command line to open a model by its content.
 */
public enum FileKind {
  EMPTY("an empty file"),
  CAI("a .cai archive"),
  /** A protobuf whose first field is an ONNX {@code ModelProto}'s; TensorFlow's .pb look alike. */
  ONNX("an ONNX model (protobuf)"),
  /** A zip: a jar, a zipped model folder; not one of the PyTorch zips below. */
  ZIP("a zip archive"),
  /** A {@code torch.save} zip: {@code <folder>/data.pkl} and storages, no code. */
  TORCH_STATE_DICT("a PyTorch state dict (torch.save zip)"),
  /** A TorchScript archive ({@code torch.jit.save}): {@code data.pkl} with {@code code/} and {@code constants.pkl}. */
  TORCHSCRIPT("a TorchScript archive (torch.jit.save zip)"),
  GZIP("a gzip file"),
  SAFETENSORS("a safetensors file"),
  PICKLE("a Python pickle (an old PyTorch file?)"),
  HDF5("an HDF5 file (a Keras model?)"),
  TFLITE("a TensorFlow Lite model"),
  GGUF("a GGUF model (llama.cpp)"),
  NUMPY("a NumPy array file"),
  JSON("a JSON text file"),
  TEXT("a text file"),
  UNKNOWN("of an unknown kind");

  /** How many leading bytes {@link #of(byte[], long)} looks at. */
  public static final int HEAD = 512;

  private final String description;

  FileKind(String description) {
    this.description = description;
  }

  /** "a text file", "an ONNX model (protobuf)", ...: what follows "this is". */
  public String description() {
    return description;
  }

  /** Whether this is a model format the project cannot read yet (convert it to ONNX first). */
  public boolean isOtherModelFormat() {
    return this == PICKLE || this == HDF5 || this == TFLITE || this == GGUF;
  }

  /**
   * The kind of the file at {@code path}, from its first {@link #HEAD} bytes; a zip is told apart
   * by its entry names (a PyTorch state dict, a TorchScript archive, another zip).
   */
  public static FileKind of(Path path) throws IOException {
    byte[] head;
    try (InputStream in = Files.newInputStream(path)) {
      head = in.readNBytes(HEAD);
    }
    FileKind k = of(head, Files.size(path));
    return k == ZIP ? zipKind(path, head) : k;
  }

  /** PyTorch's zips hold {@code <folder>/data.pkl}; TorchScript's add {@code code/} and {@code constants.pkl}. */
  private static FileKind zipKind(Path path, byte[] head) {
    boolean pickle = false;
    boolean code = false;
    try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(path.toFile())) {
      for (var e = z.entries(); e.hasMoreElements(); ) {
        String n = e.nextElement().getName();
        int slash = n.indexOf('/');
        String rest = slash > 0 ? n.substring(slash + 1) : "";
        pickle |= rest.equals("data.pkl");
        code |= rest.equals("constants.pkl") || rest.startsWith("code/");
      }
    } catch (IOException | RuntimeException e) {
      // no readable directory (truncated?): torch.save's first record is <folder>/data.pkl, and the
      // state-dict reader names the damage
      return firstRecordIsAPickle(head) ? TORCH_STATE_DICT : ZIP;
    }
    return pickle && code ? TORCHSCRIPT : pickle ? TORCH_STATE_DICT : ZIP;
  }

  /** The kind of a file of {@code size} bytes that starts with {@code head}. */
  public static FileKind of(byte[] head, long size) {
    int n = head.length;
    if (size == 0 || n == 0) {
      return EMPTY;
    }
    if (startsWith(head, CaiFormat.MAGIC)) {
      return CAI;
    }
    if (startsWith(head, new byte[] {'P', 'K', 3, 4}) || startsWith(head, new byte[] {'P', 'K', 5, 6})) {
      return ZIP;
    }
    if (startsWith(head, new byte[] {(byte) 0x1f, (byte) 0x8b})) {
      return GZIP;
    }
    if (startsWith(head, new byte[] {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'})) {
      return HDF5;
    }
    if (startsWith(head, new byte[] {'G', 'G', 'U', 'F'})) {
      return GGUF;
    }
    if (startsWith(head, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'})) {
      return NUMPY;
    }
    if (n >= 8 && head[4] == 'T' && head[5] == 'F' && head[6] == 'L' && head[7] == '3') {
      return TFLITE;
    }
    if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
      return PICKLE;
    }
    if (n >= 9 && head[8] == '{' && safetensorsHeader(head, size)) {
      return SAFETENSORS;
    }
    String text = text(head, n < size);
    if (text != null) {
      String t = text.stripLeading();
      return t.startsWith("{") || t.startsWith("[") ? JSON : TEXT;
    }
    if (onnxLike(head)) {
      return ONNX;
    }
    return UNKNOWN;
  }

  private static boolean firstRecordIsAPickle(byte[] head) {
    if (head.length < 30) {
      return false;
    }
    int n = (head[26] & 0xff) | (head[27] & 0xff) << 8;
    if (30 + n > head.length) {
      return false;
    }
    String name = new String(head, 30, n, StandardCharsets.UTF_8);
    return name.indexOf('/') > 0 && name.substring(name.indexOf('/') + 1).equals("data.pkl");
  }

  /**
   * "this is a text file", or for an unknown kind its first bytes in hex (all there is to say);
   * for the messages of a file that is not what was expected.
   */
  public static String describe(byte[] head, long size) {
    FileKind k = of(head, size);
    if (k == UNKNOWN) {
      byte[] b = Arrays.copyOf(head, Math.min(8, head.length));
      return "it is of no kind this program knows (it starts with " + java.util.HexFormat.of().formatHex(b) + ")";
    }
    return "this is " + k.description;
  }

  private static boolean startsWith(byte[] head, byte[] magic) {
    return head.length >= magic.length && Arrays.equals(head, 0, magic.length, magic, 0, magic.length);
  }

  /**
   * safetensors: a little-endian u64 header length, then that many bytes of JSON; a length beyond
   * the file still counts when the JSON starts as a header does ({"name" or {}), so that a
   * truncated file is named as the safetensors file it was.
   */
  private static boolean safetensorsHeader(byte[] head, long size) {
    long len = 0;
    for (int i = 7; i >= 0; i--) {
      len = len << 8 | (head[i] & 0xff);
    }
    if (len > 1 && len <= size - 8) {
      return true;
    }
    return len > 1 && len <= 100_000_000L && head.length >= 10 && (head[9] == '"' || head[9] == '}');
  }

  /** The head as text when it is UTF-8 without control characters other than tabs and line ends. */
  private static String text(byte[] head, boolean cut) {
    int n = head.length;
    if (cut) { // the last character may be cut in the middle: drop up to 3 continuation bytes
      int i = n - 1;
      while (i > 0 && n - i <= 3 && (head[i] & 0xc0) == 0x80) {
        i--;
      }
      if ((head[i] & 0x80) != 0) {
        n = i;
      }
    }
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(head, 0, n)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f) {
        return null;
      }
    }
    return s;
  }

  /**
   * A protobuf that starts as an ONNX {@code ModelProto} does: fields are written in number order,
   * so the first is {@code ir_version} (1, varint), or a later one when it is absent.
   */
  private static boolean onnxLike(byte[] head) {
    int tag = head[0] & 0xff;
    if (tag == 0x08) { // ir_version: a small varint
      return head.length >= 2 && (head[1] & 0xff) > 0 && (head[1] & 0xff) < 0x80;
    }
    // producer_name, producer_version, domain, doc_string, graph, opset_import: length-delimited
    return tag == 0x12 || tag == 0x1a || tag == 0x22 || tag == 0x32 || tag == 0x3a || tag == 0x42;
  }
}
