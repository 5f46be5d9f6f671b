/**
 * Tensors as the core sees them: metadata ({@link dev.selfbyt.cortexsdr.core.tensor.TensorInfo}),
 * data ({@link dev.selfbyt.cortexsdr.core.tensor.TensorData}) and where they come from
 * ({@link dev.selfbyt.cortexsdr.core.tensor.TensorSource}). Converters for ONNX, TorchScript and
 * SavedModel implement {@code TensorSource}; tests and simple programs use
 * {@link dev.selfbyt.cortexsdr.core.tensor.InMemoryTensorSource}.
 */
package dev.selfbyt.cortexsdr.core.tensor;
