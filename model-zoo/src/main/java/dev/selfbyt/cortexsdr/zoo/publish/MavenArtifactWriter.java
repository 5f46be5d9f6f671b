package dev.selfbyt.cortexsdr.zoo.publish;

import dev.selfbyt.cortexsdr.zoo.ZooSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Writes a {@link Publication} as a Maven artifact: {@code <name>-<version>.jar} holding a repository
 * with this one model under {@code cortexsdr-zoo/} (where {@link
 * dev.selfbyt.cortexsdr.zoo.CortexSdrModelZoo} looks on the classpath), its pom inside under {@code
 * META-INF/maven/}, and {@code <name>-<version>.pom} beside it; Maven coordinates are the
 * publication's group, its name (one artifact per variant) and version. Install it with {@code mvn
 * install:install-file -Dfile=X.jar -DpomFile=X.pom} or deploy it to any Maven repository. The jar is
 * reproducible: entries in name order with a fixed time.
 */
public final class MavenArtifactWriter {
  private static final FileTime FIXED_TIME = FileTime.fromMillis(315532800000L + 86_400_000L * 31); // 1980-02-01

  private MavenArtifactWriter() {}

  /**
   * The files written.
   *
   * @param jar the jar
   * @param pom the pom
   */
  public record Result(Path jar, Path pom) {}

  /** Writes the jar and pom into {@code outDir}. */
  public static Result write(Path outDir, Publication p) throws IOException {
    Files.createDirectories(outDir);
    String base = p.name() + "-" + p.version();
    Path jar = outDir.resolve(base + ".jar");
    Path pom = outDir.resolve(base + ".pom");
    byte[] pomBytes = pom(p).getBytes(StandardCharsets.UTF_8);
    Path staging = Files.createTempDirectory(outDir, "." + base + ".repo-");
    try {
      RepositoryPublisher.publish(staging, p);
      packRepository(staging, jar, Map.of("META-INF/maven/" + p.groupId() + "/" + p.name() + "/pom.xml", pomBytes));
      AtomicFiles.write(pom, pomBytes);
    } finally {
      try (var s = Files.walk(staging)) {
        for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(q);
        }
      }
    }
    return new Result(jar, pom);
  }

  /**
   * Packs a repository folder into a jar under {@code cortexsdr-zoo/} (where the zoo looks on the
   * classpath), with {@code extra} entries beside it; entries in name order with a fixed time.
   */
  public static void packRepository(Path repo, Path jar, Map<String, byte[]> extra) throws IOException {
    List<Path> files;
    try (var s = Files.walk(repo)) {
      files = s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
          .sorted(Comparator.comparing(f -> repo.relativize(f).toString())).toList();
    }
    AtomicFiles.write(jar, out -> {
      Manifest mf = new Manifest();
      mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
      mf.getMainAttributes().putValue("Created-By", "CortexSDR model zoo");
      try (JarOutputStream jos = new JarOutputStream(out)) {
        put(jos, "META-INF/MANIFEST.MF", os -> mf.write(os));
        for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(extra).entrySet()) {
          put(jos, e.getKey(), os -> os.write(e.getValue()));
        }
        for (Path f : files) {
          String name = ZooSource.CLASSPATH_PREFIX + "/" + repo.relativize(f).toString().replace('\\', '/');
          put(jos, name, os -> Files.copy(f, os));
        }
      }
    });
  }

  private static void put(JarOutputStream jos, String name, AtomicFiles.Content content) throws IOException {
    JarEntry e = new JarEntry(name);
    e.setLastModifiedTime(FIXED_TIME);
    jos.putNextEntry(e);
    content.writeTo(jos);
    jos.closeEntry();
  }

  /** The artifact's pom: coordinates, a description, no dependencies (the application brings the zoo). */
  static String pom(Publication p) {
    String description = p.description() != null ? p.description() : p.artifactId() + " " + p.properties()
        + ", compressed by CortexSDR (.cai); found by cortexsdr-model-zoo on the classpath";
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        + "<project xmlns=\"http://maven.apache.org/POM/4.0.0\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
        + "    xsi:schemaLocation=\"http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd\">\n"
        + "  <modelVersion>4.0.0</modelVersion>\n"
        + "  <groupId>" + xml(p.groupId()) + "</groupId>\n"
        + "  <artifactId>" + xml(p.name()) + "</artifactId>\n"
        + "  <version>" + xml(p.version()) + "</version>\n"
        + "  <packaging>jar</packaging>\n"
        + "  <name>" + xml(p.name()) + "</name>\n"
        + "  <description>" + xml(description) + "</description>\n"
        + "</project>\n";
  }

  private static String xml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
