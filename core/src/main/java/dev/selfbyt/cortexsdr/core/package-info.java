/**
 * CortexSDR core: the {@code .cai} compressed model archive and everything needed to write and
 * read one, with no dependency on any ML framework (zstd-jni only).
 *
 * <p>Entry point: {@link dev.selfbyt.cortexsdr.core.CortexSdr#compress} turns a
 * {@link dev.selfbyt.cortexsdr.core.tensor.TensorSource} (named tensors plus an opaque graph blob)
 * into a {@code .cai} file, configured by {@link dev.selfbyt.cortexsdr.core.CompressionOptions}
 * and answering with {@link dev.selfbyt.cortexsdr.core.CompressionStats}.
 *
 * <p>Packages, one idea each:
 * <ul>
 *   <li>{@code tensor}: {@code DType}, {@code TensorRole}, {@code TensorInfo} (name, dtype, shape,
 *       role, reduction axis), {@code TensorData} (little-endian bytes, floats on demand),
 *       {@code TensorSource} and {@code InMemoryTensorSource}, {@code Fp16} conversions.
 *   <li>{@code codec}: the {@code TensorCodec} interface and its implementations {@code RawCodec},
 *       {@code RleCodec}, {@code QuantCodec}, {@code SdrCodec}; {@code ZstdStage}, the entropy
 *       stage kept only where it shrinks a payload; {@code Codecs}, which rebuilds a codec from the
 *       id and parameters stored in a file.
 *   <li>{@code policy}: {@code CompressionPolicy} plans each tensor (codec, bits, block, sparsity,
 *       protected or not) from presets, overrides and an optional error budget.
 *   <li>{@code pipeline}: {@code CompressionPipeline} encodes tensors on N threads with a bounded
 *       window and hands them to the writer in source order, so output bytes never depend on N.
 *   <li>{@code calibrate}: {@code Hessian} ({@code X^T X}), {@code Gptq} (error-compensating
 *       rounding), {@code Metrics}; framework-free, fed by the converters.
 *   <li>{@code format}: {@code CaiWriter} (streams; its Javadoc is the format spec),
 *       {@code CaiReader} (memory-maps, decodes one tensor on demand, under the limits of {@code
 *       CaiReader.Options}), {@code CaiEntry} (a directory entry), the {@code CaiException} family
 *       ({@code CaiLimitException}: a file over a configured limit), the small {@code Json} codec
 *       used for the manifest, and {@code WriterTempFiles} (the locked temporary files of
 *       write-then-rename, whose leftovers after a {@code kill -9} the next writer removes, made
 *       with the mode the umask gives), and {@code FileKind} (what a file is by its first bytes:
 *       a {@code .cai}, ONNX, a zip, a text file, ...; for messages and for opening by content).
 * </ul>
 */
package dev.selfbyt.cortexsdr.core;
