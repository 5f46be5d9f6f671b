/**
 * Reliability under load and failure (docs/reliability.md): {@link
 * dev.selfbyt.cortexsdr.it.reliability.SoakReport}, a bench main that shares one real model among 16
 * threads per runtime path (DJL engine, ONNX Runtime via {@code CaiOrt}) checking every output
 * against a single-threaded run, then loads and closes it thousands of times while {@link
 * dev.selfbyt.cortexsdr.it.reliability.ProcessGauges} reads resident memory, heap, NIO buffers and
 * open file descriptors; and {@link dev.selfbyt.cortexsdr.it.reliability.CompressModel}, the
 * compression the kill -9 test ({@code AtomicCompressIT}) forks and kills. The fuzz targets are
 * tests, in {@code src/test/.../it/fuzz}.
 */
package dev.selfbyt.cortexsdr.it.reliability;
