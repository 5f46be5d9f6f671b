package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.codec.NonFiniteValueException;
import dev.selfbyt.cortexsdr.core.pipeline.EncodingOutOfMemoryException;
import java.util.regex.Pattern;

/**
 * The command-line form of the remedies the library's errors describe in API terms: the library
 * says "keep this tensor lossless", the command says which option does it.
 */
final class ErrorHints {
  private ErrorHints() {}

  /** @return a hint to append to the error's message, or "" */
  static String of(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof NonFiniteValueException nf) {
        return " (--protect '" + regex(nf.tensor()).replace("'", "'\\''") + "')";
      }
      if (t instanceof EncodingOutOfMemoryException) {
        return "; lower --threads or raise -Xmx";
      }
    }
    return "";
  }

  /** The regular expression (as {@code --protect} takes) matching exactly this name. */
  static String regex(String name) {
    return META.matcher(name).replaceAll("\\\\$0");
  }

  private static final Pattern META = Pattern.compile("[\\\\^$.|?*+()\\[\\]{}]");
}
