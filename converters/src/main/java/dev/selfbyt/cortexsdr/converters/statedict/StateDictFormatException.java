package dev.selfbyt.cortexsdr.converters.statedict;

import dev.selfbyt.cortexsdr.core.format.CaiException;

/**
 * A PyTorch {@code .pt} file that cannot be read or written as asked: not a {@code torch.save}
 * zip, truncated or damaged, a pickle that refers to a global other than torch's tensor
 * rebuilders, a storage missing or of the wrong size, a tensor that reads past its storage. The
 * message names the file, the tensor when one is involved, and the cause.
 */
public final class StateDictFormatException extends CaiException {
  public StateDictFormatException(String file, String tensor, String reason) {
    super(file, tensor, reason);
  }

  public StateDictFormatException(String file, String tensor, String reason, Throwable cause) {
    super(file, tensor, reason, cause);
  }
}
