/**
 * Converters between host model formats and {@code .cai}.
 *
 * <p>ONNX ({@code onnx} package):
 * <ul>
 *   <li>{@code OnnxModelReader}: a {@link dev.selfbyt.cortexsdr.core.tensor.TensorSource} over an
 *       ONNX file. Weights come from initializers and from {@code Constant} nodes (named by the
 *       node's output), inline or in external-data files; each gets its role (MatMul/Gemm weight
 *       with its reduction axis, Conv weight, Gather table, bias, norm) from the nodes that use it.
 *       The graph is stored with weight data stripped. Weights inside control-flow subgraphs
       ({@code If} branches, {@code Loop} and {@code Scan} bodies, at any depth) are weights like
       the rest.
 *   <li>{@code GraphWeights}: every weight of an ONNX graph at every depth, under the unique name
 *       it is stored by (a subgraph weight's name is scoped by the nodes and attributes above it:
 *       {@code If_0/then_branch/W}), with the role its consumers give it, names resolved as ONNX
 *       scopes them (a subgraph may read outer-scope weights); rebuilds the graph with each
 *       weight's tensor replaced, and hoists subgraph weights to the main graph for runtimes that
 *       supply weights there only.
 *   <li>{@code OnnxDTypes}: ONNX element types to and from {@link
 *       dev.selfbyt.cortexsdr.core.tensor.DType}.
 *   <li>{@code OnnxExporter}: writes a {@code .cai} back out as a standard {@code .onnx} file,
 *       with decoded weights; {@code QuantizedOnnxExporter}: the same with weights kept quantized
 *       ({@code MatMulNBits}, {@code GatherBlockQuantized}); {@code IntegerMatMul}: its forms for
 *       int8 per-channel weights ({@code int8-fast}: {@code DynamicQuantizeLinear + MatMulInteger}
 *       for weights in the manifest's {@code int8Activations}, {@code Cast + Mul} otherwise, per-row
 *       Gather tables); {@code NBitsAccuracy}: MatMulNBits {@code accuracy_level} 0 or 4 per
 *       weight shape, by timing both.
 *   <li>{@code OrtVersion}: the ONNX Runtime release an export targets and what it has (measured
 *       per release: {@code MatMulNBits} 8-bit and {@code GatherBlockQuantized bits} from 1.23,
 *       {@code GatherBlockQuantized} with uint4 data from 1.20); {@code OlderRuntimeForms}: the
 *       forms {@code QuantizedOnnxExporter} writes for older targets, each keeping the codes
 *       quantized ({@code DequantizeLinear + MatMul}, uint4 {@code GatherBlockQuantized}, {@code
 *       Gather} of codes dequantized after the gather).
 *   <li>{@code OnnxCalibrator}: runs the model in ONNX Runtime on calibration inputs and rounds
 *       MatMul weights with GPTQ; {@code BitAllocator} and {@code MixedPrecision}: per-weight
 *       widths toward an output target; {@code RareRows}: embedding rows by how often the
 *       calibration inputs read them (rows never read take fewer bits, a tiered codec);
 *       {@code Int8FastCalibrator}: {@code int8-fast}'s smoothing of
 *       activation outliers into the weights and its weight-only fallback for the MatMuls that
 *       suffer most from int8 activations, each measured as a batch sees it ({@code BatchRanges}:
 *       every {@code DynamicQuantizeLinear} given the calibration set's range). (Calibration is
 *       why this module depends on ONNX Runtime.)
 *   <li>{@code StoredGraphCheck}: a {@code .cai} made from ONNX against its own stored graph
 *       (every weight present, dtype, shape, role and axis as the graph implies, nodes defined
 *       before use), run by {@code cortexsdr verify}, the DJL engine and {@code CaiOrt}.
 *   <li>{@code OnnxFormatException}: a bad ONNX input, naming the file, the tensor and the cause.
 * </ul>
 */
package dev.selfbyt.cortexsdr.converters;
