/**
 * Compute kernels on compressed weights, independent of DJL.
 *
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix}: a block-quantized weight seen as
 *       {@code N} rows of {@code K} codes (the fibers of the stored tensor: the columns of a
 *       {@code [K, N]} MatMul weight, the rows of a {@code [V, D]} embedding table), with its
 *       scales and zero points; built from {@code QuantCodec.unpack} without decoding.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix}: an SDR weight as CSR over the same
 *       rows, built from {@code SdrCodec.unpack}.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.MatMul}: {@code Y[M,N] = X[M,K] * W[K,N]} for a
 *       dense, quantized or sparse {@code W}; tiles of {@code W} are decoded into a small buffer
 *       per thread and multiplied at once by register-blocked kernels (up to 12 rows by 2 vectors), a bias
 *       added while the tile is in cache, so memory holds only the compressed form.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.Kernels} picks, in this order: {@code
 *       NativeKernels} (C through JNI, {@code libcortexsdr_kernels.so} from this jar, loaded by
 *       {@code NativeLibrary}; AMX (AVX-512 plus AMX-INT8 tiles for the W8A8 product, once
 *       Linux granted the tile state), AVX-512 VNNI, AVX2+FMA or portable code chosen at run
 *       time; quantized panels decoded and multiplied in one native call per run of panels; its
 *       linux-aarch64 build is checked as C under {@code qemu-aarch64} by the test {@code
 *       Aarch64KernelTest} with src/test/c/kernel_check.c, as a JVM does not load there), {@code
 *       VectorKernels} (Java Vector API) when {@code jdk.incubator.vector} is in the JVM, else
 *       {@code ScalarKernels}, whose products {@code ScalarMatMul} lays out in wide 0-based
 *       tiles that C2 auto-vectorizes (each row of {@code x} four elements of {@code k} per pass
 *       over a 0-based accumulator, {@code Math.fma} where HotSpot has the instruction, the depth
 *       in L2-sized chunks, the columns split per thread; {@code ScalarAttention} runs an
 *       attention head in the same loops); each choice (the JVM's, and any other a model's settings ask
 *       for) logs one line naming it. The vector
 *       class is only ever loaded by reflection, so a JVM without the module never sees it.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.Int8Panels}: a MatMul weight that computes with
 *       int8 activations (W8A8, the manifest's {@code int8Activations}): activations quantized
 *       per tensor as ONNX Runtime's {@code DynamicQuantizeLinear}, int8 per-channel codes in
 *       groups of four along {@code K} for integer dot products, 32-bit sums.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.KernelThreads}: fork-join pools that split large
 *       products over {@code N}, one per distinct (threads, spin) setting, shared by the models
 *       that ask for it.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.KernelScope}: the kernels and pool one model's
 *       calls use; {@code Kernels.get()} and {@code KernelThreads.forEach} read the calling
 *       thread's scope (workers take their caller's), the JVM's defaults outside any.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.FusedKernels}: the native forms of the graph's
 *       fused operators (one head of multi-head attention per call; layer norm with the residual
 *       sum and the smoothing scale), C in {@code fused_ops.c} in the same library; they run
 *       with the native kernels (the attention head also with the scalar ones, {@code
 *       ScalarAttention}), the graph package runs the Java forms otherwise.
 * </ul>
 */
package dev.selfbyt.cortexsdr.djl.kernel;
