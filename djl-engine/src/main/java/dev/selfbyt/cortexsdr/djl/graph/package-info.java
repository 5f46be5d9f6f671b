/**
 * Runs an ONNX graph in Java: {@link dev.selfbyt.cortexsdr.djl.graph.Value} is a tensor (dense
 * float32 or int64 values, or a compressed weight), {@link dev.selfbyt.cortexsdr.djl.graph.Ops}
 * is the registry of the ONNX operators, which live by family in their own classes ({@code
 * ElementwiseOps} with {@code Arith}, {@code ShapeOps}, {@code NormOps}, {@code ProductOps}, {@code
 * ConvOps}, {@code PoolOps}, {@code ResizeOps}, {@code RecurrentOps}, {@code ReduceOps}, {@code LayoutOps}), {@link dev.selfbyt.cortexsdr.djl.graph.GraphExecutor} orders the
 * nodes once at load time, checks every operator is known (listing the ones that are not) and
 * evaluates the graph for each call, freeing intermediate values after their last use. Before
 * compiling, {@link dev.selfbyt.cortexsdr.djl.graph.Fusion} rewrites the standard exported chains
 * (GELU, layer norm with the residual sum before it, MatMul plus bias, scaled and masked softmax,
 * multi-head attention, and the smoothing {@code Mul} of a W8A8 export folded into the node that
 * produces its operand) into single nodes that {@link dev.selfbyt.cortexsdr.djl.graph.FusedOps}
 * runs in one pass, as ONNX Runtime's graph optimizer does (the engine option {@code fusion=false}
 * turns it off); {@code FusedAttention} runs the attention one (batch, head) per task, reading Q, K
 * and V in place, with the native kernels' {@code FusedKernels} when they run. Within one run,
 * {@code ArrayRecycler} hands the output arrays of weight products and layer norms back for reuse
 * once no slot holds them (a fresh large array costs a zeroing pass over cold memory). An executor
 * is immutable after construction: many threads may run it at once.
 *
 * <p>What a damaged graph can do is bounded: at load the executor refuses a node that lacks one of
 * its operator's required inputs (fewer inputs, or an empty name in a required place); at run an
 * attribute that does not fit the values a node is given (an axis outside its input's rank) fails
 * with {@link dev.selfbyt.cortexsdr.djl.graph.InvalidNodeException} naming the node, its operator
 * and its inputs. Any other exception inside an operator is wrapped in an {@code
 * IllegalStateException}: a bug in the executor, which the fuzzer reports.
 */
package dev.selfbyt.cortexsdr.djl.graph;
