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
 *       per thread and multiplied at once by register-blocked kernels (8 rows by 2 vectors), a bias
 *       added while the tile is in cache, so memory holds only the compressed form.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.Kernels} picks {@code VectorKernels} (Java Vector
 *       API) when {@code jdk.incubator.vector} is in the JVM, else {@code ScalarKernels}; the
 *       vector class is only ever loaded by reflection, so a JVM without the module never sees it.
 *   <li>{@link dev.selfbyt.cortexsdr.djl.kernel.KernelThreads}: the shared fork-join pool that
 *       splits large products over {@code N}.
 * </ul>
 */
package dev.selfbyt.cortexsdr.djl.kernel;
