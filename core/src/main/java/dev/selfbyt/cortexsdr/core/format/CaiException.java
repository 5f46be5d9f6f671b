package dev.selfbyt.cortexsdr.core.format;

import java.io.IOException;

/**
 * Something is wrong with a {@code .cai} file or with writing one. The message always names the
 * file, the tensor when one is involved, and the cause; {@link #file()} and {@link #tensor()} give
 * them to programs. Subclasses say which kind of wrong: {@link CorruptCaiException}, {@link
 * NotCaiFileException}, {@link UnsupportedCaiVersionException}, {@link UnknownCodecException}.
 */
public class CaiException extends IOException {
  private final String file;
  private final String tensor;
  private final String reason;

  public CaiException(String file, String tensor, String reason) {
    this(file, tensor, reason, null);
  }

  public CaiException(String file, String tensor, String reason, Throwable cause) {
    super(format(file, tensor, reason), cause);
    this.file = file;
    this.tensor = tensor;
    this.reason = reason;
  }

  private static String format(String file, String tensor, String reason) {
    StringBuilder sb = new StringBuilder();
    if (file != null) {
      sb.append(file).append(": ");
    }
    if (tensor != null) {
      sb.append("tensor '").append(tensor).append("': ");
    }
    return sb.append(reason).toString();
  }

  /** The file concerned (as given by the caller), or null. */
  public String file() {
    return file;
  }

  /** The tensor concerned, or null when the problem is not about one tensor. */
  public String tensor() {
    return tensor;
  }

  /** The cause in words, without the file and tensor prefix. */
  public String reason() {
    return reason;
  }
}
