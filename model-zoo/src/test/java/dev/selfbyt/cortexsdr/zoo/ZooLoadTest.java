package dev.selfbyt.cortexsdr.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Application;
import ai.djl.repository.Artifact;
import ai.djl.repository.MRL;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ModelZoo;
import dev.selfbyt.cortexsdr.zoo.publish.RepositoryPublisher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real model published into a folder repository and loaded back by name through DJL: by
 * application, engine and filter from the zoo; by a {@code djl://} URL; by DJL's own local
 * repository (the metadata is DJL's format). Every path gives the embedding the same file gives
 * when loaded directly.
 */
class ZooLoadTest {
  @TempDir static Path cache;
  @TempDir static Path repo;
  private static Runnable restoreCache;

  @BeforeAll
  static void publishTwoVariants() throws Exception {
    restoreCache = ZooFixture.useCache(cache);
    RepositoryPublisher.publish(repo, ZooFixture.publication("1.0.0", Map.of("quantization", "int8", "pooling", "mean")));
    RepositoryPublisher.publish(repo, ZooFixture.publication("1.0.0", Map.of("quantization", "int8", "pooling", "cls"),
        "cls"));
  }

  @AfterAll
  static void restore() {
    restoreCache.run();
  }

  @Test
  void loadsByApplicationEngineAndFilter() throws Exception {
    CortexSdrModelZoo zoo = CortexSdrModelZoo.of(repo.toUri().toString());
    assertEquals(List.of("all-minilm-l6-v2"), zoo.getModelLoaders().stream().map(l -> l.getArtifactId()).toList());
    assertArrayEquals(ZooFixture.embedDirect("mean"), ZooFixture.embed(ZooFixture.criteria(zoo, "pooling", "mean")));
    assertArrayEquals(ZooFixture.embedDirect("cls"), ZooFixture.embed(ZooFixture.criteria(zoo, "pooling", "cls")));
    assertThrows(ModelNotFoundException.class, () -> ZooFixture.criteria(zoo, "pooling", "max").loadModel());
  }

  @Test
  void djlUrlNamesTheModelInTheRegisteredZoo() throws Exception {
    assertTrue(ModelZoo.listModelZoo().stream().anyMatch(z -> z instanceof CortexSdrModelZoo),
        "DJL lists the CortexSDR zoo");
    System.setProperty(CortexSdrModelZoo.REPOSITORIES, repo.toString());
    try {
      Criteria<String, float[]> byUrl = Criteria.builder().setTypes(String.class, float[].class)
          .optModelUrls("djl://" + CortexSdrModelZoo.GROUP_ID + "/all-minilm-l6-v2")
          .optFilter("pooling", "cls").build();
      assertArrayEquals(ZooFixture.embedDirect("cls"), ZooFixture.embed(byUrl));
      Map<Application, List<MRL>> listed = ModelZoo.listModels(Criteria.builder()
          .optApplication(Application.NLP.TEXT_EMBEDDING).optEngine("CortexSDR").build());
      assertTrue(listed.getOrDefault(Application.NLP.TEXT_EMBEDDING, List.of()).stream()
          .anyMatch(m -> m.getArtifactId().equals("all-minilm-l6-v2")), listed.toString());
      Criteria<String, float[]> byApplication = Criteria.builder().setTypes(String.class, float[].class)
          .optApplication(Application.NLP.TEXT_EMBEDDING).optEngine("CortexSDR").optFilter("pooling", "mean").build();
      assertArrayEquals(ZooFixture.embedDirect("mean"), ZooFixture.embed(byApplication));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Criteria.builder()
          .setTypes(String.class, float[].class).optModelUrls("djl://" + CortexSdrModelZoo.GROUP_ID + "/no-such-model")
          .build().loadModel());
      assertTrue(e.getMessage().contains("no model no-such-model") && e.getMessage().contains("all-minilm-l6-v2"),
          e.getMessage());
    } finally {
      System.clearProperty(CortexSdrModelZoo.REPOSITORIES);
    }
  }

  @Test
  void djlsOwnLocalRepositoryReadsTheSameFolder() throws Exception {
    // DJL's LocalRepository: its own metadata reading and sha1 check, no CortexSDR code on the way
    Criteria<String, float[]> c = Criteria.builder().setTypes(String.class, float[].class)
        .optModelUrls(repo.toUri().toString()).optEngine("CortexSDR").optFilter("pooling", "mean").build();
    assertArrayEquals(ZooFixture.embedDirect("mean"), ZooFixture.embed(c));
  }

  @Test
  void newestVersionFirstAndRepublishingReplaces() throws Exception {
    Path r = Files.createTempDirectory(cache, "versions");
    RepositoryPublisher.publish(r, ZooFixture.publication("1.0.0", Map.of("quantization", "int8")));
    RepositoryPublisher.publish(r, ZooFixture.publication("1.10.0", Map.of("quantization", "int8")));
    RepositoryPublisher.publish(r, ZooFixture.publication("1.2.0", Map.of("quantization", "int8")));
    RepositoryPublisher.publish(r, ZooFixture.publication("1.2.0", Map.of("quantization", "int8")));
    ZooRepository zr = ZooRepository.of(r.toString());
    MRL mrl = zr.getResources().get(0);
    List<String> versions = zr.locate(mrl).getArtifacts().stream().map(Artifact::getVersion).toList();
    assertEquals(List.of("1.10.0", "1.2.0", "1.0.0"), versions);
    assertFalse(Files.list(r).anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
  }
}
