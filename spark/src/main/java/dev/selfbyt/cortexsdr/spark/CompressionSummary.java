package dev.selfbyt.cortexsdr.spark;

import java.io.Serializable;

/**
 * One row of {@link CortexSdrCompressionJob}'s summary: which model, where its {@code .cai} went,
 * sizes and ratio, the output's SHA-256, the executor that did it, and the fidelity on the
 * calibration sentences (mean and minimum cosine of the model's first output, original against
 * compressed, both in ONNX Runtime) when the job was given sentences and the model has a
 * tokenizer; null otherwise. A Java bean, so {@code Encoders.bean} makes it a Dataset row.
 */
public class CompressionSummary implements Serializable {
  private static final long serialVersionUID = 1L;

  private String model;
  private String output;
  private long inputBytes;
  private long outputBytes;
  private double ratio;
  private long timeMs;
  private String sha256;
  private String executor;
  private Double meanCosine;
  private Double minCosine;
  private Integer sentences;

  /** An empty row, for the bean encoder. */
  public CompressionSummary() {}

  public String getModel() {
    return model;
  }

  public void setModel(String model) {
    this.model = model;
  }

  public String getOutput() {
    return output;
  }

  public void setOutput(String output) {
    this.output = output;
  }

  public long getInputBytes() {
    return inputBytes;
  }

  public void setInputBytes(long inputBytes) {
    this.inputBytes = inputBytes;
  }

  public long getOutputBytes() {
    return outputBytes;
  }

  public void setOutputBytes(long outputBytes) {
    this.outputBytes = outputBytes;
  }

  /** Input bytes over output bytes. */
  public double getRatio() {
    return ratio;
  }

  public void setRatio(double ratio) {
    this.ratio = ratio;
  }

  public long getTimeMs() {
    return timeMs;
  }

  public void setTimeMs(long timeMs) {
    this.timeMs = timeMs;
  }

  /** SHA-256 of the written {@code .cai}, hex. */
  public String getSha256() {
    return sha256;
  }

  public void setSha256(String sha256) {
    this.sha256 = sha256;
  }

  /** The Spark executor id that compressed it ({@code driver} in local mode). */
  public String getExecutor() {
    return executor;
  }

  public void setExecutor(String executor) {
    this.executor = executor;
  }

  public Double getMeanCosine() {
    return meanCosine;
  }

  public void setMeanCosine(Double meanCosine) {
    this.meanCosine = meanCosine;
  }

  public Double getMinCosine() {
    return minCosine;
  }

  public void setMinCosine(Double minCosine) {
    this.minCosine = minCosine;
  }

  /** Calibration sentences the fidelity was measured on, or null. */
  public Integer getSentences() {
    return sentences;
  }

  public void setSentences(Integer sentences) {
    this.sentences = sentences;
  }

  @Override
  public String toString() {
    return model + " -> " + output + ": " + inputBytes + " -> " + outputBytes + " bytes (" + String.format(
        java.util.Locale.ROOT, "%.2fx", ratio) + "), executor " + executor
        + (meanCosine == null ? "" : ", cosine mean " + meanCosine + " min " + minCosine + " on " + sentences);
  }
}
