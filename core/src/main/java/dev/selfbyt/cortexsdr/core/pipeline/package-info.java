/**
 * Parallel, streaming compression. {@link dev.selfbyt.cortexsdr.core.pipeline.CompressionPipeline}
 * reads tensors from a source only when a worker is free, encodes them on N threads with {@link
 * dev.selfbyt.cortexsdr.core.pipeline.TensorEncoder}, and hands the results to the writer in
 * source order: memory is bounded by the window of tensors in flight (a few tensors, and behind
 * a lossy one still being encoded, followers holding up to its bytes) and the output bytes do not
 * depend on N.
 */
package dev.selfbyt.cortexsdr.core.pipeline;
