package dev.selfbyt.cortexsdr.djl.graph;

/**
 * A node cannot run on the values it is given: an attribute such as {@code axis} outside its
 * input's rank. The graph (for a model file, the file) or the caller's input is at fault, never
 * the executor; {@link GraphExecutor#run} rethrows it with the node's name, operator and input
 * shapes, and DJL's predictor reports it as the cause of its {@code TranslateException}. Other
 * failures inside an operator stay {@code IllegalStateException}s: they are bugs to fix.
 */
public final class InvalidNodeException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public InvalidNodeException(String message) {
    super(message);
  }

  InvalidNodeException(String message, InvalidNodeException cause) {
    super(message, cause);
  }

  /**
   * {@code axis} of an input of {@code rank} as an index in {@code [0, rank)}, negative axes
   * counting from the end as ONNX defines.
   *
   * @throws InvalidNodeException when it is outside {@code [-rank, rank)}
   */
  static int axis(String what, long axis, int rank) {
    if (axis < -rank || axis >= rank) {
      throw new InvalidNodeException(what + " " + axis + " is outside [" + -rank + ", " + rank + ") for an input of rank "
          + rank);
    }
    return (int) (axis < 0 ? axis + rank : axis);
  }
}
