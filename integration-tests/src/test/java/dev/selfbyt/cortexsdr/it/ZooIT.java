package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Application;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import com.sun.net.httpserver.HttpServer;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.it.zoo.ProjectZoo;
import dev.selfbyt.cortexsdr.zoo.CortexSdrModelZoo;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The project's zoo (built into {@code target/zoo} by the build, {@link ProjectZoo}) loaded by name,
 * end to end, for both sentence encoders: from the jar repository on the classpath, from the folder
 * repository as a {@code file:} URL, from the Maven artifacts on the classpath, and over http from a
 * loopback server (the tests run with {@code ai.djl.offline=true}). Every source gives the same
 * embeddings, and they stay close to the fp32 model run in ONNX Runtime.
 */
class ZooIT {
  static final int SENTENCES = 6;
  static Path zoo;
  static HttpServer server;
  static Path cache;
  static String oldCache;

  @BeforeAll
  static void serve() throws Exception {
    zoo = Path.of(System.getProperty("cortexsdr.zoo", "target/zoo"));
    assertTrue(Files.isDirectory(zoo.resolve("repo")), zoo + " holds no zoo: the build's pre-integration-test step "
        + "(ProjectZoo) makes it");
    Path repo = zoo.resolve("repo");
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/zoo/", ex -> {
      try (ex) {
        Path f = repo.resolve(ex.getRequestURI().getPath().substring("/zoo/".length())).normalize();
        if (!f.startsWith(repo) || !Files.isRegularFile(f)) {
          ex.sendResponseHeaders(404, -1);
          return;
        }
        ex.sendResponseHeaders(200, Files.size(f));
        try (InputStream in = Files.newInputStream(f); OutputStream out = ex.getResponseBody()) {
          in.transferTo(out);
        }
      }
    });
    server.start();
    // a cache of this test's own, so each source is really fetched and checked (the tokenizer's library stays put)
    cache = Files.createTempDirectory("zoo-it-cache");
    System.setProperty("ENGINE_CACHE_DIR", ai.djl.util.Utils.getEngineCacheDir().toString());
    oldCache = System.getProperty("DJL_CACHE_DIR");
    System.setProperty("DJL_CACHE_DIR", cache.toString());
  }

  @AfterAll
  static void stop() throws Exception {
    server.stop(0);
    if (oldCache == null) {
      System.clearProperty("DJL_CACHE_DIR");
    } else {
      System.setProperty("DJL_CACHE_DIR", oldCache);
    }
    try (var s = Files.walk(cache)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** The criteria a user writes: by name, the variant by filter; the zoo says translator, engine and arguments. */
  static Criteria<String, float[]> byName(RealModel m, String quantization) {
    return Criteria.builder().setTypes(String.class, float[].class)
        .optModelUrls("djl://" + CortexSdrModelZoo.GROUP_ID + "/" + ProjectZoo.artifactId(m))
        .optFilter("quantization", quantization).build();
  }

  /** The same by application and engine only, as a newcomer would ask. */
  static Criteria<String, float[]> byApplication(RealModel m, String quantization) {
    return Criteria.builder().setTypes(String.class, float[].class).optApplication(Application.NLP.TEXT_EMBEDDING)
        .optEngine("CortexSDR").optArtifactId(ProjectZoo.artifactId(m)).optFilter("quantization", quantization)
        .build();
  }

  static float[][] embed(Criteria<String, float[]> c, List<String> sentences) throws Exception {
    try (ZooModel<String, float[]> model = c.loadModel(); Predictor<String, float[]> p = model.newPredictor()) {
      float[][] out = new float[sentences.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = p.predict(sentences.get(i));
      }
      return out;
    }
  }

  /** Runs {@code body} with {@code jars} on the thread's class path (how DJL and the zoo look for resources). */
  static <T> T withClasspath(List<Path> jars, Callable<T> body) throws Exception {
    Thread t = Thread.currentThread();
    ClassLoader old = t.getContextClassLoader();
    URL[] urls = new URL[jars.size()];
    for (int i = 0; i < urls.length; i++) {
      urls[i] = jars.get(i).toUri().toURL();
    }
    try (URLClassLoader cl = new URLClassLoader(urls, old)) {
      t.setContextClassLoader(cl);
      return body.call();
    } finally {
      t.setContextClassLoader(old);
    }
  }

  static <T> T withRepositories(String locations, Callable<T> body) throws Exception {
    System.setProperty(CortexSdrModelZoo.REPOSITORIES, locations);
    try {
      return body.call();
    } finally {
      System.clearProperty(CortexSdrModelZoo.REPOSITORIES);
    }
  }

  @ParameterizedTest
  @EnumSource(RealModel.class)
  void loadsByNameFromEverySource(RealModel m) throws Exception {
    List<String> sentences = MobyDick.sentences(SENTENCES, 0);
    Path work = Files.createDirectories(zoo.resolve("it").resolve(ProjectZoo.artifactId(m)));
    List<Encoding> enc = Embedder.encodeAll(m.tokenizer(work), 512, sentences);
    float[][] fp32;
    try (Embedder e = new Embedder(m.onnx(work), m.pooling(), 2)) {
      fp32 = e.embedAll(enc);
    }
    String version = System.getProperty("cortexsdr.version", "0.1.0-SNAPSHOT");
    Path jarRepo = zoo.resolve("cortexsdr-zoo-models-" + version + ".jar");
    List<Path> mavenJars = new ArrayList<>();
    List<String> variants = ProjectZoo.variants(Integer.getInteger("cortexsdr.zoo.calibration", 0));
    for (String v : variants) {
      mavenJars.add(zoo.resolve("maven").resolve(ProjectZoo.artifactId(m) + "-" + v + "-" + version + ".jar"));
    }
    String http = "http://127.0.0.1:" + server.getAddress().getPort() + "/zoo/";

    float[][] fromJar = withClasspath(List.of(jarRepo), () -> embed(byName(m, "int8"), sentences));
    float[][] int4 = withClasspath(List.of(jarRepo), () -> embed(byApplication(m, variants.get(1)), sentences));
    float[][] fromFolder = withRepositories(zoo.resolve("repo").toUri().toString(),
        () -> embed(byName(m, "int8"), sentences));
    float[][] fromMaven = withClasspath(mavenJars, () -> embed(byApplication(m, "int8"), sentences));
    float[][] overHttp = withRepositories(http, () -> embed(byName(m, "int8"), sentences));

    for (float[][] same : List.of(fromFolder, fromMaven, overHttp)) {
      for (int i = 0; i < sentences.size(); i++) {
        assertEquals(1.0, Metrics.cosine(fromJar[i], same[i]), 1e-6, "one file, one embedding, whatever the source");
      }
    }
    double int8Mean = meanCosine(fromJar, fp32);
    double int4Mean = meanCosine(int4, fp32);
    System.out.printf(Locale.ROOT, "%s from the zoo: int8 mean cosine vs fp32 %.5f, %s %.5f (%d sentences)%n",
        m.displayName(), int8Mean, variants.get(1), int4Mean, sentences.size());
    assertTrue(int8Mean >= 0.999, "int8: " + int8Mean);
    assertTrue(int4Mean >= 0.95, variants.get(1) + ": " + int4Mean);
  }

  static double meanCosine(float[][] a, float[][] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Metrics.cosine(a[i], b[i]);
    }
    return s / a.length;
  }
}
