package dev.selfbyt.cortexsdr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cortexsdr publish} and {@code cortexsdr zoo list} on a real model (all-MiniLM-L6-v2, int8,
 * with its tokenizer found beside it): into a repository folder, as a Maven artifact, and from
 * several processes at once into one repository, none of whose artifacts is lost.
 */
class PublishCommandTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path cai;

  @BeforeAll
  static void compress() throws Exception {
    Path onnx = shared.resolve("minilm.onnx");
    try (InputStream in = PublishCommandTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      Files.copy(in, onnx);
    }
    try (InputStream in = PublishCommandTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, shared.resolve("minilm-tokenizer.json")); // <model>-tokenizer.json: found by publish
    }
    cai = shared.resolve("minilm.cai");
    assertEquals(0, CortexSdrCommand.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
        "compress", onnx.toString(), "-o", cai.toString(), "--preset", "int8"));
  }

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CortexSdrCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    return new String[] {String.valueOf(code), out.toString(), err.toString()};
  }

  private static List<String> publishArgs(Path repo, String version) {
    return List.of("publish", cai.toString(), "--repo", repo.toString(), "--group", "com.example.models",
        "--artifact", "minilm", "--version", version, "--application", "nlp/text_embedding",
        "--property", "quantization=int8", "--argument", "pooling=mean", "--argument", "maxLength=512");
  }

  @Test
  void publishesIntoARepositoryAndListsIt() throws Exception {
    Path repo = dir.resolve("repo");
    String[] r = run(publishArgs(repo, "1.0.0").toArray(String[]::new));
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("published com.example.models:minilm:1.0.0 (minilm-int8)"), r[1]);
    Path meta = repo.resolve("model/nlp/text_embedding/com/example/models/minilm/metadata.json");
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(meta));
    @SuppressWarnings("unchecked")
    Map<String, Object> a = (Map<String, Object>) ((List<Object>) m.get("artifacts")).get(0);
    assertEquals(Map.of("quantization", "int8"), a.get("properties"));
    @SuppressWarnings("unchecked")
    Map<String, Object> args = (Map<String, Object>) a.get("arguments");
    assertEquals("CortexSDR", args.get("engine"));
    assertEquals(PublishCommand.TEXT_EMBEDDING_TRANSLATOR, args.get("translatorFactory"));
    assertEquals(512L, args.get("maxLength"));
    assertEquals(true, args.get("includeTokenTypes"), "MiniLM's graph reads token_type_ids");
    assertEquals(List.of("model", "tokenizer"), new ArrayList<>(((Map<?, ?>) a.get("files")).keySet()));

    String[] list = run("zoo", "list", "--repo", repo.toUri().toString());
    assertEquals("0", list[0], list[2]);
    assertTrue(list[1].contains("com.example.models:minilm  nlp/text_embedding") && list[1].contains("minilm-int8")
        && list[1].contains("model.cai, tokenizer.json"), list[1]);
  }

  @Test
  void writesAMavenArtifact() throws Exception {
    String[] r = run("publish", cai.toString(), "--maven", dir.toString(), "--group", "com.example.models", "--artifact",
        "minilm", "--version", "1.0.0", "--application", "nlp/text_embedding", "--property", "quantization=int8",
        "--json");
    assertEquals("0", r[0], r[2]);
    Path jar = dir.resolve("minilm-int8-1.0.0.jar");
    assertTrue(Files.isRegularFile(dir.resolve("minilm-int8-1.0.0.pom")));
    assertTrue(Files.readString(dir.resolve("minilm-int8-1.0.0.pom")).contains("<artifactId>minilm-int8</artifactId>"));
    try (JarFile j = new JarFile(jar.toFile())) {
      List<String> names = j.stream().map(e -> e.getName()).toList();
      assertTrue(names.contains("cortexsdr-zoo/index.json"), names.toString());
      assertTrue(names.contains("cortexsdr-zoo/model/nlp/text_embedding/com/example/models/minilm/metadata.json"));
      assertTrue(names.stream().anyMatch(n -> n.endsWith("/model.cai")) && names.stream()
          .anyMatch(n -> n.endsWith("/tokenizer.json")), names.toString());
      assertTrue(names.contains("META-INF/maven/com.example.models/minilm-int8/pom.xml"));
    }
    String[] list = run("zoo", "list", "--repo", "jar:" + jar.toUri() + "!/cortexsdr-zoo");
    assertTrue(list[1].contains("minilm-int8"), list[1] + list[2]);
  }

  @Test
  void refusesAModelWithoutTokenizerForTheTextTranslator() throws Exception {
    Path lone = Files.copy(cai, dir.resolve("lone.cai"));
    String[] r = run("publish", lone.toString(), "--repo", dir.resolve("repo").toString(), "--group", "g.h",
        "--artifact", "a", "--version", "1", "--application", "nlp/text_embedding");
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("--tokenizer"), r[2]);
  }

  @Test
  void concurrentPublisherProcessesLoseNothing() throws Exception {
    Path repo = dir.resolve("repo");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Process> ps = new ArrayList<>();
    int n = 3;
    for (int i = 0; i < n; i++) {
      List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
          CortexSdrCommand.class.getName()));
      cmd.addAll(publishArgs(repo, "1.0." + i));
      ps.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("p" + i + ".log").toFile())
          .start());
    }
    for (int i = 0; i < n; i++) {
      assertEquals(0, ps.get(i).waitFor(), Files.readString(dir.resolve("p" + i + ".log")));
    }
    String[] list = run("zoo", "list", "--repo", repo.toString(), "--json");
    @SuppressWarnings("unchecked")
    Map<String, Object> o = (Map<String, Object>) Json.parse(list[1].trim());
    @SuppressWarnings("unchecked")
    List<Object> artifacts = (List<Object>) ((Map<String, Object>) ((List<Object>) o.get("models")).get(0))
        .get("artifacts");
    assertEquals(List.of("1.0.2", "1.0.1", "1.0.0"), artifacts.stream().map(x -> ((Map<?, ?>) x).get("version"))
        .toList());
    try (var s = Files.walk(repo)) {
      assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList());
    }
  }
}
