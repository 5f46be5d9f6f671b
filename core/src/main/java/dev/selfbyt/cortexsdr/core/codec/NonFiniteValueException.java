package dev.selfbyt.cortexsdr.core.codec;

/**
 * A lossy codec met a NaN or an infinity: rounding and sparsification need finite values. The
 * remedy is to keep that tensor lossless ({@code CompressionOptions.Builder.protect}); callers
 * that know how the user asked for the compression (the command line) add their own hint.
 */
public final class NonFiniteValueException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final String tensor;
  private final float value;
  private final long element;

  /**
   * @param tensor the tensor's name
   * @param value the first non-finite value found
   * @param element its index, or -1 when not known
   * @param indexing how the index counts ("element", "fiber-major element")
   * @param operation what needed finite values ("quantization", "sparsification")
   */
  public NonFiniteValueException(String tensor, float value, long element, String indexing, String operation) {
    super("tensor '" + tensor + "' holds " + value + (element < 0 ? "" : " (" + indexing + " " + element + ")")
        + "; " + operation + " needs finite values: keep this tensor lossless");
    this.tensor = tensor;
    this.value = value;
    this.element = element;
  }

  /** @return the tensor's name */
  public String tensor() {
    return tensor;
  }

  /** @return the first non-finite value found */
  public float value() {
    return value;
  }

  /** @return its index, or -1 */
  public long element() {
    return element;
  }
}
