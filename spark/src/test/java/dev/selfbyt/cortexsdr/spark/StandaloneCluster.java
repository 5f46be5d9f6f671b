package dev.selfbyt.cortexsdr.spark;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Spark standalone cluster on 127.0.0.1: a master and {@code n} workers, each a JVM of its
 * own started from this JVM's classpath ({@code org.apache.spark.deploy.master.Master} and {@code
 * worker.Worker}, as {@code sbin/start-master.sh} and {@code start-worker.sh} start them), on a
 * Spark home laid out from this JVM's class path (its jars linked into {@code jars/}). The workers
 * start executors the way they do on any cluster, with {@code jars/*} as class path. {@link #close()} stops every JVM it started, executors included.
 */
final class StandaloneCluster implements AutoCloseable {
  /** JDK 17 options Spark's own launcher gives its JVMs (the pom passes them as a system property). */
  static final List<String> OPENS = Arrays.asList(System.getProperty("spark.jvm.opens",
      "-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED "
      + "--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED "
      + "--add-opens=java.base/java.util=ALL-UNNAMED").trim().split("\\s+"));

  private final Path home;
  private final Path logs;
  private final int masterPort;
  private final int masterUi;
  private final Process master;
  private final List<Process> workers = new ArrayList<>();
  private final List<ProcessHandle> started = new ArrayList<>();
  private final List<String> directories = new ArrayList<>();
  /** The project's jars, their dependencies and the test tools: what a plain Spark installation lacks. */
  private static final Pattern NOT_SPARK = Pattern.compile("/dev/selfbyt/|/target/|onnxruntime|/ai/djl/|/jna/"
      + "|tribuo|protobuf-java|junit|opentest4j|apiguardian|langchain4j|picocli|surefire|slf4j-nop");
  private final String classPath;

  /**
   * Starts a master and {@code workers} workers of {@code cores} cores and {@code memory} each,
   * and waits until the master sees them all, at most {@code timeout}.
   */
  StandaloneCluster(Path dir, int workers, int cores, String memory, Duration timeout) throws Exception {
    this(dir, workers, cores, memory, timeout, false);
  }

  /**
   * As above; {@code sparkOnly}: the Spark home holds Spark and its dependencies only, none of the
   * project's jars or their dependencies (a plain installation, for applications that bring their
   * own jar to spark-submit).
   */
  StandaloneCluster(Path dir, int workers, int cores, String memory, Duration timeout, boolean sparkOnly)
      throws Exception {
    this.home = Files.createDirectories(dir.resolve("spark-home"));
    this.classPath = install(home, System.getProperty("java.class.path"), sparkOnly);
    this.logs = Files.createDirectories(dir.resolve("logs"));
    this.masterPort = freePort();
    this.masterUi = freePort();
    this.master = start("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
        "--port", Integer.toString(masterPort), "--webui-port", Integer.toString(masterUi)), Map.of());
    try {
      for (int i = 1; i <= workers; i++) {
        Path work = Files.createDirectories(dir.resolve("worker-" + i));
        this.workers.add(start("worker-" + i, List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
            "--cores", Integer.toString(cores), "--memory", memory, "--webui-port", Integer.toString(freePort()),
            "--work-dir", work.toString(), masterUrl()),
            Map.of("SPARK_DIST_CLASSPATH", String.join(java.io.File.pathSeparator, directories))));
      }
      awaitWorkers(workers, timeout);
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /** {@code spark://127.0.0.1:port}. */
  String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  /** The master's JSON status ({@code /json/}): workers, applications. */
  String masterStatus() throws IOException {
    try (InputStream in = URI.create("http://127.0.0.1:" + masterUi + "/json/").toURL().openStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Workers the master counts as alive. */
  int aliveWorkers() {
    try {
      Matcher m = Pattern.compile("\"aliveworkers\"\\s*:\\s*(\\d+)").matcher(masterStatus());
      return m.find() ? Integer.parseInt(m.group(1)) : 0;
    } catch (IOException e) {
      return 0; // not listening yet
    }
  }

  /**
   * Kills worker {@code i} (1-based) with SIGKILL, as a machine failure would, with the
   * executors it runs.
   */
  void killWorker(int i) {
    Process w = workers.get(i - 1);
    List<ProcessHandle> children = w.descendants().toList();
    w.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
  }

  /** The executor JVMs alive under the workers (their processes' ids). */
  List<Long> executorPids() {
    List<Long> pids = new ArrayList<>();
    for (Process w : workers) {
      w.descendants().filter(ProcessHandle::isAlive).forEach(h -> pids.add(h.pid()));
    }
    return pids;
  }

  /** The folder of the master's, workers' and executors' logs. */
  Path logs() {
    return logs;
  }

  /**
   * Lays out {@code home} as a Spark installation: every jar of {@code classPath} linked into
   * {@code jars/} (what Spark's launcher puts on a daemon's and an executor's class path as {@code
   * jars/*}), class folders kept aside for {@code SPARK_DIST_CLASSPATH}. The command lines stay
   * short, as on a real installation: ONNX Runtime 1.29.0 crashes (SIGSEGV while creating a
   * session) in a JVM whose command line passes about 4 KB, which a -cp of 180 jars does.
   *
   * @return the daemons' class path
   */
  private String install(Path home, String classPath, boolean sparkOnly) throws IOException {
    Path jars = Files.createDirectories(home.resolve("jars"));
    for (String entry : classPath.split(java.io.File.pathSeparator)) {
      Path p = Path.of(entry);
      // judged by where the file really is (class path entries may be links to the Maven repository)
      String real = Files.exists(p) ? p.toRealPath().toString() : entry;
      if (sparkOnly && (Files.isDirectory(p) || NOT_SPARK.matcher(real).find())) {
        continue;
      }
      if (Files.isDirectory(p)) {
        directories.add(p.toAbsolutePath().toString());
      } else if (Files.isRegularFile(p) && entry.endsWith(".jar")) {
        Path link = jars.resolve(p.getFileName());
        for (int i = 2; Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS); i++) {
          if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(p.toAbsolutePath())) {
            break;
          }
          link = jars.resolve(i + "-" + p.getFileName());
        }
        if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          Files.createSymbolicLink(link, p.toAbsolutePath());
        }
      }
    }
    List<String> cp = new ArrayList<>(directories);
    cp.add(jars.toAbsolutePath() + "/*");
    return String.join(java.io.File.pathSeparator, cp);
  }

  private Process start(String name, List<String> mainAndArgs, Map<String, String> env) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m"); // daemons only keep track of the cluster; executors get their own heap
    cmd.addAll(OPENS);
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.addAll(mainAndArgs);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(logs.resolve(name + ".log").toFile());
    pb.environment().put("SPARK_HOME", home.toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().putAll(env);
    Process p = pb.start();
    started.add(p.toHandle());
    return p;
  }

  private void awaitWorkers(int n, Duration timeout) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    while (aliveWorkers() < n) {
      if (!master.isAlive()) {
        throw new IllegalStateException("the master exited: " + tail(logs.resolve("master.log")));
      }
      for (int i = 0; i < workers.size(); i++) {
        if (!workers.get(i).isAlive()) {
          throw new IllegalStateException("worker " + (i + 1) + " exited: " + tail(logs.resolve("worker-" + (i + 1)
              + ".log")));
        }
      }
      if (System.nanoTime() > end) {
        throw new IllegalStateException("the master saw " + aliveWorkers() + " of " + n + " workers after " + timeout
            + "; logs in " + logs);
      }
      Thread.sleep(250);
    }
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Stops the workers (and their executors), then the master; waits for each JVM to go. */
  @Override
  public void close() {
    List<ProcessHandle> all = new ArrayList<>();
    for (ProcessHandle h : started) {
      all.addAll(h.descendants().toList());
    }
    all.addAll(started);
    for (ProcessHandle h : all) {
      h.destroy();
    }
    for (ProcessHandle h : all) {
      try {
        h.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
  }
}
