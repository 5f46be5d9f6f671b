/**
 * The design's SDR proof of concept on Fashion-MNIST: networks trained and pruned in Java, stored
 * as SDR ({@code sdr} codec: positions plus 8- or 4-bit values) in {@code .cai}, run sparse on both
 * runtimes against the dense fp32 network.
 *
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.it.models.FashionMnistImages}: the Debian {@code dataset-fashion-mnist}
 *       IDX files as normalised float rows and labels.
 *   <li>{@link dev.selfbyt.cortexsdr.it.sdr.SparseTrainer}: a main run in a JVM that has DJL's
 *       PyTorch engine: trains the MLP (784-512-256-10) or the small CNN from a fixed seed, then
 *       fine-tunes it while pruning by magnitude on a cubic schedule (per output neuron or filter,
 *       the fibers the {@code sdr} codec selects over) to each target sparsity, and writes each
 *       network as an ONNX file ({@link dev.selfbyt.cortexsdr.it.sdr.NetOnnx}) with a line of its
 *       PyTorch test accuracy.
 *   <li>{@link dev.selfbyt.cortexsdr.it.sdr.NetOnnx}: the trained weights as a standard ONNX graph
 *       (MatMul, Add, Conv, Relu, MaxPool, Flatten), the file any converter user would bring.
 *   <li>{@link dev.selfbyt.cortexsdr.it.sdr.SdrPocReport}: the bench main: trains (in a child JVM
 *       with {@code target/pytorch-lib}) or reuses the trained files, compresses each with the
 *       command line's {@code sdr} preset, measures size, test accuracy and latency at batch 1 and
 *       64 on the DJL engine and on ONNX Runtime ({@code SdrMatMul}) against the dense fp32 network
 *       on each, and prints one table.
 *   <li>{@link dev.selfbyt.cortexsdr.it.sdr.SdrPocProfile}: ONNX Runtime's per-node profile of the
 *       dense and SDR files at one sparsity, batch 1 and 64: where the forward pass's time goes.
 * </ul>
 */
package dev.selfbyt.cortexsdr.it.sdr;
