/**
 * Tensor codecs, each a small class behind {@link dev.selfbyt.cortexsdr.core.codec.TensorCodec}:
 *
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.core.codec.RawCodec}: the bytes as they are, any dtype,
 *       optionally byte-shuffled (all first bytes, then all second bytes...) so that the entropy
 *       stage finds the redundancy in floating-point exponents.
 *   <li>{@link dev.selfbyt.cortexsdr.core.codec.RleCodec}: lossless runs of repeated elements.
 *   <li>{@link dev.selfbyt.cortexsdr.core.codec.QuantCodec}: 2 to 8 bits, symmetric or
 *       asymmetric (integer zero point, as ONNX DequantizeLinear and MatMulNBits use), per
 *       tensor, per channel or in blocks along the reduction axis, fp16 scales, or super-block
 *       scales (an fp16 per 8 blocks and a byte per block; their arithmetic in {@code
 *       SuperScales}). Its parameters and payload layout are {@code QuantParams}, its writer
 *       {@code QuantEncoder}; {@link dev.selfbyt.cortexsdr.core.codec.QuantCodec#unpack} gives a
 *       payload as a {@link dev.selfbyt.cortexsdr.core.codec.QuantizedTensor} (scales, zero
 *       points, packed codes) for kernels and ONNX export.
 *   <li>{@link dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec}: fibers in tiers of different
 *       widths (an embedding table's rarely read rows at fewer bits), each tier a {@code
 *       QuantCodec} or a {@code CodebookQuantCodec}; its widened view (quant tiers only) is one
 *       quantized tensor for kernels and ONNX export.
 *   <li>{@link dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec}: block scales and codes that
 *       index a per-tensor table of non-uniform levels fitted by k-means (normal-float style),
 *       decoded by table lookup; more accurate than the uniform grid at 2 and 3 bits.
 *   <li>{@link dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec}: one step per fiber (a
 *       multiple of its root mean square) and Huffman-coded integer codes: a block codec's error
 *       in fewer bits where no Hessian shapes the rounding (embedding tables); its widened view is
 *       symmetric 8-bit codes with one scale per fiber.
 *   <li>{@link dev.selfbyt.cortexsdr.core.codec.SdrCodec}: keeps the significant weights only,
 *       positions (delta+varint or a bitmap, whichever is smaller; bitmap or absolute u32 when
 *       delta coding is off) plus values (fp32, fp16 or quantized).
 * </ul>
 *
 * <p>{@link dev.selfbyt.cortexsdr.core.codec.PackedCodes} is the one packer of low-bit codes (LSB
 * first) that codecs, kernels and exporters share.
 *
 * <p>A codec instance is a codec plus its parameters: {@link
 * dev.selfbyt.cortexsdr.core.codec.TensorCodec#params()} is what the directory stores and {@link
 * dev.selfbyt.cortexsdr.core.codec.Codecs#fromStored} rebuilds the same instance from it to
 * decode. {@link dev.selfbyt.cortexsdr.core.codec.ZstdStage} runs on any codec's output and is
 * kept only where it shrinks it.
 *
 * <p>A lossy encoding's error is stored with it: {@link
 * dev.selfbyt.cortexsdr.core.codec.TensorCodec#encodeMeasured} returns the payload with its
 * {@link dev.selfbyt.cortexsdr.core.codec.EncodingError} figures as a {@link
 * dev.selfbyt.cortexsdr.core.codec.MeasuredPayload}. By default it decodes the payload and
 * compares; {@link dev.selfbyt.cortexsdr.core.codec.QuantCodec} measures while it encodes, in the
 * same element order and with the same arithmetic, so the figures (and the file) are the same to
 * the bit either way.
 *
 * <p>Lossy codecs work on fibers: the elements along the tensor's reduction axis (see {@link
 * dev.selfbyt.cortexsdr.core.tensor.TensorInfo}). Their payloads store fibers one after the other
 * ("fiber-major"), which is the original order when the reduction axis is the last one.
 */
package dev.selfbyt.cortexsdr.core.codec;
