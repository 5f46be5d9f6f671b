package dev.selfbyt.cortexsdr.tensorflow;

import dev.selfbyt.cortexsdr.core.format.CaiException;

/**
 * A SavedModel folder that cannot be read or written as asked: not a SavedModel, a missing or
 * truncated checkpoint shard, a damaged {@code variables.index}, a variable whose shape disagrees
 * with the graph, an element type without a {@code .cai} equivalent. The message names the file,
 * the variable when one is involved, and the cause.
 */
public final class SavedModelFormatException extends CaiException {
  /** A problem with {@code file} (and {@code tensor}, or null), for the reason given. */
  public SavedModelFormatException(String file, String tensor, String reason) {
    super(file, tensor, reason);
  }

  /** The same, keeping the exception that revealed it. */
  public SavedModelFormatException(String file, String tensor, String reason, Throwable cause) {
    super(file, tensor, reason, cause);
  }
}
