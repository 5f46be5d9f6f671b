/**
 * The project's one benchmark report: a single program, {@link
 * dev.selfbyt.cortexsdr.it.report.BenchmarkReport} (run by {@code ./benchmark} at the repository
 * root), that measures every model the project can have offline and writes {@code
 * docs/benchmark-report.md} and the plots {@code docs/images/report-*.png} (XChart). Every figure
 * in them comes from that run; the header says when, on what machine, under what load and with
 * which versions. {@code --quick} (one text model, few sentences and calls) writes into a folder
 * under {@code target/} instead; {@code BenchmarkReportIT} runs it and checks that the plots render.
 *
 * <p>The measuring code is the existing bench mains', called, not copied: each section turns their
 * result records into the report's rows.
 *
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.ReportConfig}: what a full or a quick run measures
 *       (models, presets, sentences, timed calls, output folders).
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.RunInfo}: date, CPU model and cores, memory, JDK,
 *       ONNX Runtime, DJL and PyTorch versions, git commit, load average.
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.Section}: one section's markdown with its wall time
 *       and the load average before and after it.
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.Point}: one file on the size/fidelity plane.
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.SizeFidelity}: the sentence encoders through {@code
 *       ModelReport.evaluate} (fp32, ONNX Runtime's int8 twin, each preset decoded and as quantized
 *       ONNX export, GPTQ-calibrated rows in a full run; it also times the ONNX Runtime paths), and
 *       M-LSD tiny and large through {@code CalibratedRun} (no int8 twin ships for it).
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.EngineSection}: the DJL engine through {@code
 *       DjlEngineReport}: fidelity and weights in memory after load per {@code .cai} ({@code
 *       fidelity}), and latency against ONNX Runtime fp32, its int8 twin and DJL's PyTorch engine
 *       in one run ({@code latencyTimes}).
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.Throughput}: compression as {@code cortexsdr
 *       compress} does it, through {@code CompressRun.runs}, cold and warm.
 *   <li>Fashion-MNIST accuracy against sparsity: {@code SdrPocReport.run} and its plots, copied
 *       under the report's names.
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.ReportPlots}: the PNG figures (Pareto of size against
 *       fidelity, latency bars, throughput, weight memory).
 *   <li>{@link dev.selfbyt.cortexsdr.it.report.ReportWriter}: the markdown file, written to a
 *       temporary file and renamed.
 * </ul>
 *
 * <p>Why a generated file of its own instead of a generated block inside docs/benchmarks.md: that
 * file is hand-written history that several people edit at once; a generated block inside it would
 * turn every regeneration into a merge of someone else's hunks, and a failed run could leave it half
 * rewritten. The report is replaced whole (temporary file, then rename), and benchmarks.md and the
 * README link to it.
 */
package dev.selfbyt.cortexsdr.it.report;
