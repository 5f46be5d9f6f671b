/**
 * ONNX Runtime side of CortexSDR: a {@code .cai} opened as an {@code OrtSession} in one call, and
 * the native custom operators for what ONNX Runtime's own operators cannot express.
 *
 * <ul>
 *   <li>{@code CaiOrt}: {@code CaiOrt.open(env, path[, options])} in place of {@code
 *       env.createSession(path, options)}. Rebuilds the model in memory with {@code
 *       QuantizedOnnxExporter.build} (the graph {@code export-onnx --mode quantized} writes) for
 *       the ONNX Runtime release this process runs, or the one the options name: block-quantized
 *       weights become {@code MatMulNBits} / {@code GatherBlockQuantized} (or, for releases before
 *       1.23, their older forms) and stay quantized inside ONNX Runtime; SDR-sparse MatMul weights
 *       become {@code ai.cortexsdr.SdrMatMul} (Conv weights {@code ai.cortexsdr.SdrConv}) when sparse enough for it to be faster (see {@code
 *       SdrMatMulRewriter}); every other weight (lossless, or without an operator) is decoded
 *       straight into a direct buffer and handed over with {@code
 *       SessionOptions.addExternalInitializers}, never into the model bytes nor a file. Weights
 *       inside control-flow subgraphs ({@code If}, {@code Loop}, {@code Scan}) are moved to the
 *       main graph by the exporter, read from the subgraphs as outer-scope values, since ONNX
 *       Runtime takes external initializers for the main graph only.
 *   <li>{@code CaiOrtOptions}: immutable settings for {@code CaiOrt.open} (target ONNX Runtime
 *       version, denormal flushing, threads, {@code MatMulNBits} accuracy level, SdrMatMul
 *       threshold, config entries, a callback for any other {@code SessionOptions} setting); its
 *       builder starts from the {@code dev.selfbyt.cortexsdr.onnxops.*} system properties. Each
 *       session gets a fresh {@code SessionOptions} built from it: the caller's are never changed.
 *   <li>{@code CaiOrtSession}: what {@code CaiOrt.open} returns, an {@code AutoCloseable} owning
 *       the {@code OrtSession} and the direct buffers of the decoded weights it reads in place.
 *   <li>{@code SdrOps}: the native library {@code libcortexsdr_ops.so} (C, built by Maven from
 *       {@code src/main/c}, bundled under {@code native/linux-<arch>/}), extracted once to a temp
 *       file, pinned with {@code System.load} (closing a SessionOptions would otherwise unload it
 *       under live sessions), and registered on a {@code SessionOptions}.
 *   <li>{@code SdrMatMulWeights}: a {@code [K, N]} weight in the operator's layout (compressed
 *       sparse columns: {@code col_ptr}, {@code row_idx}, fp32 values or 8/4-bit codes with block
 *       scales and zero points), made from an SDR-coded {@code .cai} tensor or from arrays; gives
 *       the node and its initializers, its size, and a dense copy for reference checks.
 *   <li>{@code SdrMatMulRewriter}: the {@code QuantizedOnnxExporter.Rewriter} that turns a MatMul (or a Conv)
 *       on an SDR weight into {@code SdrMatMul} ({@code SdrConv}) above a sparsity threshold.
 *   <li>{@code SdrFolds}: in the graph of a {@code CaiOrt} session (never in an exported file),
 *       folds the nodes after a sparse operator into it, as ONNX Runtime fuses its own: a Relu
 *       into either, a bias Add into {@code SdrMatMul}, a MaxPool into {@code SdrConv}.
 * </ul>
 *
 * <p>The operator's inputs, attributes and layout are specified in {@code src/main/c/sdr_matmul.c}
 * and in {@code docs/onnxruntime.md}.
 */
package dev.selfbyt.cortexsdr.onnxops;
