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
 *       weight shape, by timing both; {@code LayerNormFusion}: a residual {@code Add} + layer
 *       normalization written as {@code com.microsoft.SkipLayerNormalization} where {@code
 *       SymbolicShapes} (shapes in terms of the inputs' dimensions, shape arithmetic followed by
 *       value) proves both operands the same shape.
 *   <li>{@code OrtVersion}: the ONNX Runtime release an export targets and what it has (measured
 *       per release: {@code MatMulNBits} 8-bit and {@code GatherBlockQuantized bits} from 1.23,
 *       {@code GatherBlockQuantized} with uint4 data from 1.20); {@code OlderRuntimeForms}: the
 *       forms {@code QuantizedOnnxExporter} writes for older targets, each keeping the codes
 *       quantized ({@code DequantizeLinear + MatMul}, uint4 {@code GatherBlockQuantized}, {@code
 *       Gather} of codes dequantized after the gather); {@code DequantizedWeight}: any other
 *       quantized weight the graph reads (Conv, LSTM/GRU, several consumers) kept as one-byte codes
 *       dequantized in the graph under its own name ({@code DequantizeLinear} per axis from opset
 *       13, {@code com.microsoft.DequantizeLinear} below; the model's opset is never raised).
 *   <li>{@code OnnxCalibrator}: runs the model in ONNX Runtime on calibration inputs and rounds
 *       MatMul weights with GPTQ ({@code CalibrationGraphs}: its graph edits, the weight groups and
 *       the Gram probe; {@code ProbeStatistics}: the probe run over the samples where the small
 *       sessions do not apply; {@code RotationChoices}: which inputs a pass rotated, kept for the
 *       later passes of mixed precision; {@code CalibratedSource}: the source it returns); {@code LayerGptq}: GPTQ
 *       for Conv (Hessians of the im2col patches, one per convolution group, computed in ONNX
 *       Runtime by a one-hot depthwise convolution), Gemm and LSTM/GRU/RNN weights ({@code W} and
 *       {@code R}), called by {@code OnnxCalibrator} before its MatMul groups, optionally with
 *       {@code BiasCorrection} (the mean output shift of each rounded Conv/Gemm weight, measured on
 *       the calibration data, folded into its bias) and activation-aware scaling ({@code
 *       LayerScaling}: which Conv, Gemm and recurrent {@code W} inputs can be scaled per input
 *       channel, and the {@code Mul} by the inverse inserted before the node); {@code WeightSensitivity}: each quantized
 *       weight's damage to the outputs when rounded alone, and {@code SensitiveWeights}: the most
 *       damaging ones kept lossless within a share of the values; {@code ConvWeights}:
 *       depthwise Conv weights by structure (for an 8-bit override); {@code BitAllocator} and {@code
 *       MixedPrecision}: per-weight
 *       widths toward an output target ({@code FedGraphs}: a graph cut to what one tensor depends
 *       on or to what one weight's node feeds, with the weights as graph inputs, so sessions are
 *       small and quick to make; {@code GroupGrams}: GPTQ's {@code X^T X} per MatMul group from
 *       such sessions, weight tensors made once, each group running only the nodes between
 *       activations kept from earlier groups and its input; {@code SuffixRuns}: measuring a weight's effect
 *       by running only the nodes downstream of it, from cached activations; {@code
 *       CalibrationClock}: wall time per phase, for benchmarks; {@code CalibrationFailure}: the
 *       error a run on worker threads reports); {@code RareRows}: embedding rows by how often the
 *       calibration inputs read them (rows never read take fewer bits, a tiered codec);
 *       {@code Int8FastCalibrator}: {@code int8-fast}'s smoothing of
 *       activation outliers into the weights and its weight-only fallback for the MatMuls that
 *       suffer most from int8 activations, each measured as a batch sees it ({@code BatchRanges}:
 *       every {@code DynamicQuantizeLinear} given the calibration set's range). (Calibration is
 *       why this module depends on ONNX Runtime.)
 *   <li>Calibration inputs and the output check: {@code ModelInputs} (a model's data inputs:
 *       type, dynamic dimensions, the vocabulary of id inputs from the table that looks them up);
 *       {@code RandomInputs} (seeded random samples of valid values, dynamic sizes tried until the
 *       model accepts one, asked through {@code ModelTrial}); {@code NpyFiles} ({@code .npy} and
 *       {@code .npz} parsed in Java); {@code WavAudio} (16-bit PCM wav read, resampled, chunked);
 *       {@code StatefulStreams} (state outputs paired with state inputs, streams unrolled with the
 *       state carried); {@code OrtRunner} (samples of any element type fed to ONNX Runtime, outputs
 *       of any numeric type read back); {@code OutputCheck} (the original and the compressed model
 *       compared output by output, and the most damaging tensors named when they disagree).
 *   <li>{@code CalibrationOptions}: the calibration and check settings of a compression, checked
 *       together with its {@code CompressionOptions} (the command line's flag checks, for Java
 *       callers too).
 *   <li>{@code StoredGraphCheck}: a {@code .cai} made from ONNX against its own stored graph
 *       (every weight present, dtype, shape, role and axis as the graph implies, nodes defined
 *       before use), run by {@code cortexsdr verify}, the DJL engine and {@code CaiOrt}.
 *   <li>{@code OnnxFormatException}: a bad ONNX input, naming the file, the tensor and the cause.
 * </ul>
 *
 * <p>safetensors ({@code safetensors} package):
 * <ul>
 *   <li>{@code SafetensorsReader}: a {@link dev.selfbyt.cortexsdr.core.tensor.TensorSource} over one
 *       {@code .safetensors} file or a sharded set ({@code model.safetensors.index.json} and the
 *       shards it names, beside it); tensors are memory-mapped one at a time as the pipeline asks
 *       for them. The graph segment keeps each file's header verbatim (names, dtypes, shapes,
 *       offsets, {@code __metadata__}) and the index text, so that {@code SafetensorsWriter} writes
 *       the same files back: byte-identical for the lossless preset.
 *   <li>{@code SafetensorsHeader}: one file's header read and checked before anything of its size
 *       is allocated (length within the file and a bound, JSON, dtypes, shapes against offsets,
 *       offsets in range, no overlap, no hole); {@code SafetensorsDType}: the format's dtype names to
 *       {@link dev.selfbyt.cortexsdr.core.tensor.DType} (sub-byte F4/F6 as packed bytes).
 *   <li>{@code SafetensorsWriter}: a {@code .cai} made from safetensors back to its file(s), each
 *       written to a temporary file and renamed once all are complete.
 *   <li>{@code WeightRoles}: role and reduction axis of a weight stored in PyTorch's layout, from
 *       its name and shape only (there is no graph): 2-D {@code [out, in]} weights reduce over the
 *       last axis (tables whose name says embedding are read row by row), {@code [out, in, k...]}
 *       weights are convolution kernels, 1-D {@code bias} / norm parameters stay lossless.
 *   <li>{@code SafetensorsFormatException}: a bad safetensors input, naming the file, the tensor and
 *       the cause.
 * </ul>
 *
 * <p>PyTorch state dicts ({@code statedict} package):
 * <ul>
 *   <li>{@code StateDictReader}: a {@link dev.selfbyt.cortexsdr.core.tensor.TensorSource} over a
 *       {@code torch.save} zip ({@code <prefix>/data.pkl} and raw storages {@code
 *       <prefix>/data/<key>}); each storage is one tensor, under the name of the tensor that covers
 *       it (a storage shared or viewed in part is kept whole, lossless). The legacy (pre-zip) format
 *       and TorchScript archives are refused, saying what they are.
 *   <li>The container is read and written by the {@code torchzip} package (shared with
 *       TorchScript): {@code StoredZip} reads and checks the zip's directory, {@code
 *       RestrictedUnpickler} reads {@code data.pkl} without running anything, with the globals
 *       {@code StateDictReader.GLOBALS} (the ones torch writes for tensors: {@code
 *       collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}, {@code
 *       _rebuild_parameter}, the {@code torch.*Storage} types), any other global refused by name,
 *       and {@code TorchZipWriter} writes the {@code .pt} back, entries aligned to 64 bytes as torch
 *       does.
 *   <li>{@code StateDictWriter}: a {@code .cai} made from a state dict back to a {@code .pt} that
 *       {@code torch.load} reads: the stored {@code data.pkl} and records verbatim, storages decoded.
 *   <li>{@code StateDictFormatException}: a bad {@code .pt} input, naming file, tensor and cause.
 * </ul>
 *
 * <p>PyTorch's container ({@code torchzip} package, its own {@code package-info}): one restricted
 * unpickler ({@code RestrictedUnpickler}, its whitelist {@code PickleGlobals} given by the caller),
 * one reader of the stored zip ({@code StoredZip}) and one writer ({@code TorchZipWriter}), used by
 * state dicts here and by TorchScript in {@code cortexsdr-pytorch}.
 */
package dev.selfbyt.cortexsdr.converters;
