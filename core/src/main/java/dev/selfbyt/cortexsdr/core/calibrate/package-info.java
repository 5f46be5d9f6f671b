/**
 * Calibrated compression: quantization that looks at what a weight's inputs actually are.
 *
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.core.calibrate.Hessian}: accumulates {@code X^T X} of a
 *       weight's input activations (rows of {@code X} are calibration samples).
 *   <li>{@link dev.selfbyt.cortexsdr.core.calibrate.Gptq}: error-compensating rounding (GPTQ):
 *       quantizes a {@code [K, N]} weight row by row along K and spreads each row's rounding error
 *       over the rows not yet quantized, through the inverse of {@code X^T X}; returns the values
 *       at the moment each was rounded plus the grid used, so that the quant codec stores exactly
 *       those codes.
 *   <li>{@link dev.selfbyt.cortexsdr.core.calibrate.FiberGptq}: GPTQ for any weight layout as the
 *       quant codec sees it (fibers along the reduction axis): Gemm with {@code transB},
 *       convolutions (one Hessian per group, from the input's im2col patches; depthwise included),
 *       recurrent gate matrices (one Hessian per direction).
 *   <li>{@link dev.selfbyt.cortexsdr.core.calibrate.ActivationScaling}: activation-aware scaling
 *       (AWQ-style) of MatMul weights sharing an input; {@link
 *       dev.selfbyt.cortexsdr.core.calibrate.FiberScaling}: the same for any fiber layout (a
 *       convolution's input channel covers {@code prod(kernel)} fiber positions; recurrent
 *       directions share their input's channels), its alpha checked with GPTQ against GPTQ alone.
 *   <li>{@link dev.selfbyt.cortexsdr.core.calibrate.Hadamard}: the block Walsh-Hadamard transform
 *       ({@code x W = (x H)(H W)}); {@link dev.selfbyt.cortexsdr.core.calibrate.Hessian#rotated}
 *       gives the statistics of a rotated input, and GPTQ's {@code outputError} tells whether
 *       rounding {@code H W} beats rounding {@code W}.
 * </ul>
 *
 * Framework-free: collecting activations (running the model) is the converters' job.
 */
package dev.selfbyt.cortexsdr.core.calibrate;
