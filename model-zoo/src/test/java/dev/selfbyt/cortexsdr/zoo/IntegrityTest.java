package dev.selfbyt.cortexsdr.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.zoo.publish.RepositoryPublisher;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and damaged repositories over http from a loopback server (tests run with {@code
 * ai.djl.offline=true}, which the zoo honours for every host but loopback): each refusal is a {@link
 * ZooIntegrityException} naming the URL and the cause, and DJL's cache holds nothing afterwards, so
 * that the next load, once the repository is repaired, fetches afresh and works.
 */
class IntegrityTest {
  @TempDir static Path good;
  @TempDir Path repo;
  @TempDir Path cache;
  private Runnable restoreCache;
  private static RepositoryPublisher.Result published;

  @BeforeAll
  static void publish() throws Exception {
    published = RepositoryPublisher.publish(good, ZooFixture.publication("1.0.0", Map.of("quantization", "int8")));
  }

  @BeforeEach
  void copyRepository() throws IOException {
    restoreCache = ZooFixture.useCache(cache);
    try (var s = Files.walk(good)) {
      for (Path p : s.toList()) {
        Path t = repo.resolve(good.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  @AfterEach
  void restore() {
    restoreCache.run();
  }

  private Path modelFile() {
    return repo.resolve(published.files().get("model").path());
  }

  private static float[] load(String location) throws Exception {
    return ZooFixture.embed(ZooFixture.criteria(CortexSdrModelZoo.of(location), "quantization", "int8"));
  }

  /** Nothing of a refused artifact in the cache: no file, no temporary folder. */
  private void assertCacheClean() throws IOException {
    List<String> left = ZooFixture.tree(cache.resolve("cache/repo")).stream()
        .filter(p -> p.contains(".partial-") || p.endsWith(".cai") || p.endsWith(".json")).toList();
    assertEquals(List.of(), left, "left in DJL's cache");
  }

  private void editMetadata(Consumer<Map<String, Object>> fileItem) throws IOException {
    Path meta = published.metadata().toString().startsWith(good.toString())
        ? repo.resolve(good.relativize(published.metadata()).toString()) : published.metadata();
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(meta));
    @SuppressWarnings("unchecked")
    Map<String, Object> a = (Map<String, Object>) ((List<Object>) m.get("artifacts")).get(0);
    @SuppressWarnings("unchecked")
    Map<String, Object> item = (Map<String, Object>) ((Map<String, Object>) a.get("files")).get("model");
    fileItem.accept(item);
    Files.writeString(meta, Json.write(m));
  }

  @Test
  void loadsOverLoopbackHttpAndFollowsARedirectOnTheSameHost() throws Exception {
    try (RepoServer server = new RepoServer(repo)) {
      server.answers.put("/old/", (ex, f) -> RepoServer.redirect(server.base() + "/repo/"
          + ex.getRequestURI().getPath().substring("/old/".length())).answer(ex, f));
      assertArrayEquals(ZooFixture.embedDirect("mean"), load(server.base() + "/old/"));
      assertTrue(server.requestsEndingWith("model.cai") == 2, "the .cai was fetched through the redirect");
    }
  }

  @Test
  void alteredModelIsRefusedAndTheCacheStaysClean() throws Exception {
    byte[] original = Files.readAllBytes(modelFile());
    try (RandomAccessFile f = new RandomAccessFile(modelFile().toFile(), "rw")) {
      f.seek(original.length / 2);
      f.write(original[original.length / 2] ^ 0x40); // same size, one bit changed in the middle of the weights
    }
    try (RepoServer server = new RepoServer(repo)) {
      ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> load(server.url()));
      assertEquals(ZooIntegrityException.Reason.HASH_MISMATCH, e.reason());
      assertTrue(e.getMessage().startsWith(server.url()) && e.getMessage().contains("sha256"), e.getMessage());
      assertCacheClean();
      Files.write(modelFile(), original); // repaired: the next load fetches again and works
      assertArrayEquals(ZooFixture.embedDirect("mean"), load(server.url()));
    }
  }

  @Test
  void temporaryFoldersOfADeadProcessAreRemovedOthersKept() throws Exception {
    ZooRepository r = ZooRepository.of(repo.toString());
    var mrl = r.getResources().get(0);
    var artifact = r.locate(mrl).getArtifacts().get(0);
    Path entry = r.getResourceDirectory(artifact);
    Path parent = Files.createDirectories(entry.getParent());
    Path dead = Files.createDirectories(parent.resolve("." + entry.getFileName() + ".partial-123"));
    Files.writeString(dead.resolve("model.cai"), "half a download");
    Files.setLastModifiedTime(dead, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()
        - ZooRepository.ABANDONED.toMillis() - 60_000));
    Path live = Files.createDirectories(parent.resolve("." + entry.getFileName() + ".partial-456"));
    r.prepare(artifact);
    assertTrue(Files.isRegularFile(entry.resolve("model.cai")));
    assertTrue(Files.notExists(dead), "left by a killed process a day ago: removed");
    assertTrue(Files.isDirectory(live), "another process may be downloading into it: kept");
  }

  @Test
  void truncatedFileIsRefused() throws Exception {
    byte[] original = Files.readAllBytes(modelFile());
    Files.write(modelFile(), java.util.Arrays.copyOf(original, original.length - 4096));
    try (RepoServer server = new RepoServer(repo)) {
      ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> load(server.url()));
      assertEquals(ZooIntegrityException.Reason.SIZE_MISMATCH, e.reason());
      assertTrue(e.getMessage().contains("truncated"), e.getMessage());
      assertCacheClean();
    }
  }

  @Test
  void connectionCutMidDownloadLeavesNothing() throws Exception {
    try (RepoServer server = new RepoServer(repo)) {
      server.answers.put("/repo/" + published.files().get("model").path(), RepoServer.cutHalfway());
      assertThrows(IOException.class, () -> load(server.url()));
      assertCacheClean();
      server.answers.clear();
      assertArrayEquals(ZooFixture.embedDirect("mean"), load(server.url()));
    }
  }

  @Test
  void longerFileThanDeclaredIsRefused() throws Exception {
    Files.write(modelFile(), new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
    try (RepoServer server = new RepoServer(repo)) {
      ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> load(server.url()));
      assertEquals(ZooIntegrityException.Reason.TOO_LARGE, e.reason(), e.getMessage()); // Content-Length says so first
      assertCacheClean();
    }
    // a folder repository has no Content-Length: the copy stops one byte past the declared size
    ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> load(repo.toString()));
    assertEquals(ZooIntegrityException.Reason.SIZE_MISMATCH, e.reason(), e.getMessage());
    assertCacheClean();
  }

  @Test
  void pathOutOfTheRepositoryIsRefusedBeforeAnyRequest() throws Exception {
    Files.writeString(repo.getParent().resolve("secret.txt"), "not part of any repository");
    editMetadata(item -> item.put("uri", "../../../../../../../secret.txt"));
    try (RepoServer server = new RepoServer(repo)) {
      ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> load(server.url()));
      assertEquals(ZooIntegrityException.Reason.PATH_ESCAPE, e.reason());
      assertTrue(e.getMessage().contains("metadata.json") && e.getMessage().contains("'..'"), e.getMessage());
      assertEquals(0, server.requestsEndingWith("secret.txt"));
    }
    editMetadata(item -> {
      item.put("uri", published.files().get("model").path().replaceFirst("^.*?/1\\.0\\.0/", "1.0.0/"));
      item.put("name", "../../../../escaped.cai"); // where the file would land in the cache
    });
    ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> load(repo.toString()));
    assertEquals(ZooIntegrityException.Reason.PATH_ESCAPE, e.reason(), e.getMessage());
    assertCacheClean();
  }

  @Test
  void oversizeDeclaredFileIsRefusedBeforeAnyRequest() throws Exception {
    editMetadata(item -> item.put("size", 1L << 40));
    try (RepoServer server = new RepoServer(repo)) {
      ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> load(server.url()));
      assertEquals(ZooIntegrityException.Reason.TOO_LARGE, e.reason());
      assertTrue(e.getMessage().contains(ZooLimits.MAX_FILE_BYTES), e.getMessage());
      assertEquals(0, server.requestsEndingWith("model.cai"));
      assertCacheClean();
    }
  }

  @Test
  void redirectToAnotherHostIsRefused() throws Exception {
    try (RepoServer server = new RepoServer(repo); RepoServer other = new RepoServer(repo)) {
      String model = "/repo/" + published.files().get("model").path();
      server.answers.put(model, RepoServer.redirect(other.base() + model));
      ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> load(server.url()));
      assertEquals(ZooIntegrityException.Reason.REDIRECT, e.reason());
      assertTrue(e.getMessage().contains(other.base()), e.getMessage());
      assertEquals(0, other.requestsEndingWith("model.cai"), "the other host was never asked");
      assertCacheClean();
    }
  }

  @Test
  void offlineModeReachesOnlyLoopback() throws Exception {
    assertTrue(ai.djl.util.Utils.isOfflineMode(), "the build runs the tests offline");
    ZooSource remote = ZooSource.parse("http://zoo.example.invalid/repo/", getClass().getClassLoader()).get(0);
    ZooIntegrityException e = assertThrows(ZooIntegrityException.class, () -> remote.open("index.json", 100));
    assertEquals(ZooIntegrityException.Reason.OFFLINE, e.reason());
    assertTrue(HttpSource.isLoopback("127.0.0.1") && HttpSource.isLoopback("localhost")
        && HttpSource.isLoopback("[::1]") && !HttpSource.isLoopback("10.0.0.1"));
  }
}
