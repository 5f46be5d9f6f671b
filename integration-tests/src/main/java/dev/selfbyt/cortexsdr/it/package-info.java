/**
 * End-to-end checks and measurements that need more than a unit test: JMH benchmarks ({@code
 * bench}), programs the integration tests fork under tight heaps ({@link
 * dev.selfbyt.cortexsdr.it.SyntheticModelCompress}), and the sources of synthetic models far
 * larger than memory ({@link dev.selfbyt.cortexsdr.it.SyntheticTensorSource}).
 *
 * <p>Run every benchmark: {@code java -jar integration-tests/target/benchmarks.jar}; the codec
 * table in docs/benchmarks.md comes from {@code java -cp integration-tests/target/benchmarks.jar
 * dev.selfbyt.cortexsdr.it.bench.CodecBenchReport}, the end-to-end compression table from {@link
 * dev.selfbyt.cortexsdr.it.bench.CompressBenchReport} (which runs {@link
 * dev.selfbyt.cortexsdr.it.bench.CompressRun} in fresh JVMs, on this build and on an older one).
 * The generated benchmark report (docs/benchmark-report.md and its plots) comes from {@link
 * dev.selfbyt.cortexsdr.it.report.BenchmarkReport} ({@code ./benchmark}), which calls those mains'
 * measuring code.
 */
package dev.selfbyt.cortexsdr.it;
