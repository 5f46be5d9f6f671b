package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.djl.CortexSdrEngine;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * What a Java library ships, checked on the jars this build made (the integration tests run on the
 * packaged modules): the license, an {@code Automatic-Module-Name}, the version from the pom, and
 * the sources and javadoc jars beside each.
 */
class ShippedJarsIT {
  @Test
  void everyLibraryJarCarriesItsLicenseModuleNameVersionSourcesAndJavadoc() throws Exception {
    byte[] license = Files.readAllBytes(Path.of("../LICENSE"));
    Map<Class<?>, String> modules = Map.of(
        CortexSdr.class, "dev.selfbyt.cortexsdr.core",
        OnnxModelReader.class, "dev.selfbyt.cortexsdr.converters",
        CaiOrt.class, "dev.selfbyt.cortexsdr.onnxops",
        CortexSdrEngine.class, "dev.selfbyt.cortexsdr.djl",
        dev.selfbyt.cortexsdr.zoo.CortexSdrModelZoo.class, "dev.selfbyt.cortexsdr.zoo");
    for (Map.Entry<Class<?>, String> m : modules.entrySet()) {
      Path jar = Path.of(m.getKey().getProtectionDomain().getCodeSource().getLocation().toURI());
      assertTrue(jar.toString().endsWith(".jar"), m.getKey() + " comes from " + jar + ": run through mvn verify");
      try (JarFile j = new JarFile(jar.toFile())) {
        assertEquals(m.getValue(), j.getManifest().getMainAttributes().getValue("Automatic-Module-Name"), jar.toString());
        assertEquals(CortexSdr.VERSION, j.getManifest().getMainAttributes().getValue("Implementation-Version"));
        assertNotNull(j.getEntry("META-INF/LICENSE"), jar + " has no META-INF/LICENSE");
        try (InputStream in = j.getInputStream(j.getEntry("META-INF/LICENSE"))) {
          assertArrayEquals(license, in.readAllBytes(), jar + ": the project's LICENSE");
        }
      }
      String base = jar.getFileName().toString().replaceAll("\\.jar$", "");
      for (String classifier : new String[] {"sources", "javadoc"}) {
        Path side = jar.resolveSibling(base + "-" + classifier + ".jar");
        assertTrue(Files.size(side) > 1000, side.toString());
      }
    }
    assertTrue(Files.readString(Path.of("../LICENSE")).contains("Apache License"));
    // the BOM has no parent (it would pin DJL, ORT and JUnit for its users): its version by hand
    String bom = Files.readString(Path.of("../bom/pom.xml"));
    assertTrue(bom.contains("<artifactId>cortexsdr-bom</artifactId>\n  <version>" + CortexSdr.VERSION + "</version>"),
        "bom/pom.xml's version is the pom's, " + CortexSdr.VERSION);
    assertTrue(CortexSdr.VERSION.matches("\\d+\\.\\d+\\.\\d+.*"), CortexSdr.VERSION);
    assertEquals(CortexSdr.VERSION, ai.djl.engine.Engine.getEngine(CortexSdrEngine.ENGINE_NAME).getVersion());
  }
}
