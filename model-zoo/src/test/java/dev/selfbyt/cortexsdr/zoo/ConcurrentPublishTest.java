package dev.selfbyt.cortexsdr.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.repository.Artifact;
import dev.selfbyt.cortexsdr.zoo.publish.RepositoryPublisher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publishers on several threads of one JVM into one repository (a file lock alone would throw
 * there): every artifact is in the metadata afterwards, each readable and checked by the zoo.
 * {@code PublishCommandTest} does the same with separate processes.
 */
class ConcurrentPublishTest {
  @TempDir Path repo;

  @Test
  void threadsPublishingAtOnceLoseNothing() throws Exception {
    ZooFixture.cai();
    int n = 6;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String version = "2.0." + i;
        fs.add(pool.submit(() -> RepositoryPublisher.publish(repo,
            ZooFixture.publication(version, Map.of("quantization", "int8")))));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    ZooRepository r = ZooRepository.of(repo.toUri().toString());
    List<String> versions = r.locate(r.getResources().get(0)).getArtifacts().stream().map(Artifact::getVersion).toList();
    assertEquals(List.of("2.0.5", "2.0.4", "2.0.3", "2.0.2", "2.0.1", "2.0.0"), versions);
  }
}
