package dev.selfbyt.cortexsdr.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the {@code spark-submit} line of docs/spark.md against a standalone cluster started here:
 * {@code org.apache.spark.deploy.SparkSubmit} (what {@code bin/spark-submit} runs) in a JVM of its
 * own whose class path is Spark alone, submitting the shaded {@code -all} jar with {@link
 * EmbedText}. Argument: the shaded jar. Prints the command and its output.
 */
public final class SparkSubmitCheck {
  private SparkSubmitCheck() {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]).toAbsolutePath();
    Path work = Files.createDirectories(Path.of("target", "submit-check"));
    Path lines = work.resolve("lines.txt");
    Files.write(lines, TestModels.sentences(400, 14));
    Path out = work.resolve("embeddings.parquet");
    int code;
    try (StandaloneCluster cluster = new StandaloneCluster(work, 2, 1, "1g", Duration.ofSeconds(90), true)) {
      // the submitting JVM sees Spark only, as bin/spark-submit on an installation does; so do the
      // cluster's executors: the project's classes come from the submitted jar alone
      String sparkOnly = work.resolve("spark-home").toAbsolutePath() + "/jars/*";
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx512m"));
      cmd.addAll(StandaloneCluster.OPENS);
      cmd.addAll(List.of("-cp", sparkOnly, "org.apache.spark.deploy.SparkSubmit",
          "--class", "dev.selfbyt.cortexsdr.spark.EmbedText", "--master", cluster.masterUrl(),
          "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.executor.memory=640m",
          "--conf", "spark.executor.extraJavaOptions=-Dai.djl.offline=true",
          "--driver-java-options", "-Dai.djl.offline=true",
          jar.toString(), TestModels.minilmCai().toAbsolutePath().toString(),
          TestModels.minilmTokenizer().toAbsolutePath().toString(), lines.toAbsolutePath().toString(),
          out.toAbsolutePath().toString()));
      System.out.println(String.join(" ", cmd));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).inheritIO().start();
      if (p.waitFor(600, java.util.concurrent.TimeUnit.SECONDS)) {
        code = p.exitValue();
      } else {
        p.destroyForcibly();
        code = 124;
      }
      System.out.println("spark-submit exited " + code);
    }
    // after the cluster is closed: exiting inside the try would leave its JVMs running
    if (code != 0) {
      System.exit(code);
    }
  }
}
