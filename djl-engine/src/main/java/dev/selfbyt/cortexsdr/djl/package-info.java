/**
 * The DJL engine {@code CortexSDR}: runs a {@code .cai} model with its weights kept quantized or
 * sparse in memory, the way DJL's own engines run their native models.
 *
 * <pre>{@code
 * Criteria<String, float[]> criteria = Criteria.builder()
 *     .setTypes(String.class, float[].class)
 *     .optModelPath(Path.of("minilm"))            // a folder holding model.cai + tokenizer.json, or the .cai itself
 *     .optEngine("CortexSDR")                      // or engine=CortexSDR in the folder's serving.properties
 *     .optTranslatorFactory(new TextEmbeddingTranslatorFactory())
 *     .build();
 * try (ZooModel<String, float[]> model = criteria.loadModel();
 *      Predictor<String, float[]> p = model.newPredictor()) {
 *   float[] embedding = p.predict("Call me Ishmael.");
 * }
 * }</pre>
 *
 * <p>Design (one small class per concept, after DJL's OnnxRuntime engine):
 *
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.djl.CortexSdrEngineProvider} registers the engine through
 *       {@code META-INF/services/ai.djl.engine.EngineProvider}; {@link
 *       dev.selfbyt.cortexsdr.djl.CortexSdrEngine} makes models and managers, and names DJL's
 *       alternative engine (PyTorch when present) for NDArray operators it does not implement.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.CaiModel} opens a {@code .cai} file (or the one in a
 *       folder), keeps every weight in its stored form and builds a {@link
 *       dev.selfbyt.cortexsdr.djl.CaiSymbolBlock}; {@code quantize()} compresses an fp32 model's
 *       weights in place with the default preset.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.CaiNDManager} and {@link
 *       dev.selfbyt.cortexsdr.djl.CaiNDArray} (on DJL's {@code NDArrayAdapter}): an array holds
 *       dense values, or a compressed weight (block-quantized codes, or SDR positions and values
 *       seen as CSR) that is decoded only when an operator needs dense values. Operators that
 *       compute on the compressed form: {@code matMul}/{@code dot} with a quantized or sparse
 *       right operand, gather from a quantized table. Dense operators used by translators and
 *       graphs run in Java; what is left (FFTs, inverse, gradients) goes to the alternative
 *       engine.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.CaiNDArrayOperators} and its superclass {@link
 *       dev.selfbyt.cortexsdr.djl.CaiNDArrayMath} (above {@code CaiNDArray}, only to keep it short)
 *       hold the rest of DJL's NDArray operators, each a call into one family class
 *       working on executor values: {@code Reductions} (max/min/prod/sum, argMax/argMin, norm,
 *       cumSum/cumProd along any axes), {@code Statistics} (median, percentile), {@code Sorting}
 *       (sort, argSort, topK), {@code Selection} (booleanMask, oneHot, gatherNd, take, nonzero,
 *       sequenceMask, put, scatter), {@code ElementWise} (rounding, trigonometry, logic, mod,
 *       logSoftmax), {@code Layout} (repeat, tile, flip, flatten), {@code ImageOps} (resize and
 *       interpolation), {@code LinearAlgebra} (diagonal, trace, inverse, rotate90, diff), with
 *       {@code Dense} holding their shared axis and type helpers; {@code
 *       CaiNDArrayIndexer} does DJL's indexed {@code get}/{@code set}. FLOAT16 arrays are held
 *       exactly; FLOAT64 arrays are made by the alternative engine or refused.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.CaiNDArrayEx} is what {@code getNDArrayInternal()}
 *       returns: the operators DJL's {@code ai.djl.nn} blocks call (2-D convolution, linear,
 *       layer and batch norm, 2-D and global pooling, relu/sigmoid/tanh/gelu, concat/stack,
 *       where, embedding) run on the executor's own operators through {@link
 *       dev.selfbyt.cortexsdr.djl.graph.ValueOps} (one implementation for the NDArray and the ONNX
 *       node), with quantized or sparse weights used as stored; training paths go to the
 *       alternative engine.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.CaiSymbolBlock} runs the ONNX graph stored in the
 *       {@code .cai} with the Java operators of {@link dev.selfbyt.cortexsdr.djl.graph}. A graph
 *       holding an operator they lack runs whole in ONNX Runtime when it is on the classpath (the
 *       log names the operators that forced it); otherwise loading fails, listing them.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel} holds the compute kernels: block-quantized and
 *       SDR matrix products, chosen at run time: the native library in this jar (C, the CPU's
 *       best instruction set), else the Java Vector API when the JVM has {@code
 *       jdk.incubator.vector}, else plain Java loops the JIT vectorizes.
 * </ul>
 *
 * <p>Settings (threads, spin, fusion, kernels, ONNX Runtime fallback) are read per model from the
 * options it is loaded with ({@code Criteria.optOption}, {@code serving.properties}), system
 * properties giving the JVM-wide defaults: {@link dev.selfbyt.cortexsdr.djl.EngineSettings}. A
 * model's calls run in its own {@link dev.selfbyt.cortexsdr.djl.kernel.KernelScope} (kernels and
 * thread pool). The engine logs through {@code java.util.logging}: its kernel choice and any
 * fallback to ONNX Runtime are seen without an SLF4J binding.
 */
package dev.selfbyt.cortexsdr.djl;
