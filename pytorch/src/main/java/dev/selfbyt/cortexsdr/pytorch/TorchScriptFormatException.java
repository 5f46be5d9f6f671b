package dev.selfbyt.cortexsdr.pytorch;

import dev.selfbyt.cortexsdr.core.format.CaiException;

/**
 * A TorchScript archive that cannot be read (not a zip, truncated, a storage missing, a tensor that
 * does not fit its storage, a pickle global TorchScript never writes), or a {@code .cai} whose
 * tensors do not fit the TorchScript skeleton stored in it. The message names the file, the tensor
 * when one is involved, and the cause.
 */
public final class TorchScriptFormatException extends CaiException {
  private static final long serialVersionUID = 1L;

  /** A problem with {@code file} (and {@code tensor}, or null), described by {@code reason}. */
  public TorchScriptFormatException(String file, String tensor, String reason) {
    super(file, tensor, reason);
  }

  /** The same, with the exception that revealed it. */
  public TorchScriptFormatException(String file, String tensor, String reason, Throwable cause) {
    super(file, tensor, reason, cause);
  }
}
