package dev.selfbyt.cortexsdr.zoo.publish;

import ai.djl.repository.Version;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.zoo.RepoPath;
import dev.selfbyt.cortexsdr.zoo.VerifiedCopy;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Adds a {@link Publication} to a DJL repository folder (created if missing):
 *
 * <ol>
 *   <li>each file is copied to {@code model/<application>/<group path>/<artifact>/<version>/<name>/<first
 *       16 hex digits of its sha256>/<file name>}: a path no other content ever takes, so that a
 *       reader of the old metadata never meets new bytes;
 *   <li>{@code metadata.json} beside those folders gets the artifact (replacing one of the same
 *       version and name; newest version first), and the repository's {@code index.json} lists the
 *       model (what lets the zoo list an http repository, which it cannot walk).
 * </ol>
 *
 * Every file is written to a temporary file and renamed into place, all under {@code .publish.lock}
 * in the repository (a file lock against other processes, a JVM lock against other threads), so two
 * publishers at once each add their artifact and neither is lost or half-written.
 */
public final class RepositoryPublisher {
  /** The {@code metadataVersion} written, DJL's current one. */
  public static final String METADATA_VERSION = "0.2";

  private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

  private RepositoryPublisher() {}

  /**
   * What a publication wrote.
   *
   * @param metadata the {@code metadata.json} updated
   * @param files each file's repository path, size and sha256, by key
   */
  public record Result(Path metadata, Map<String, PublishedFile> files) {}

  /**
   * One file as published.
   *
   * @param path its path from the repository root
   * @param size its size in bytes
   * @param sha256 its sha256, lowercase hex
   */
  public record PublishedFile(String path, long size, String sha256) {}

  /** Publishes {@code p} into the repository folder {@code repo}. */
  public static Result publish(Path repo, Publication p) throws IOException {
    Map<String, Object> files = new LinkedHashMap<>();
    Map<String, PublishedFile> published = new LinkedHashMap<>();
    List<Path[]> copies = new ArrayList<>();
    String modelDir = "model/" + p.application() + "/" + RepoPath.ofGroup(p.groupId()) + "/" + p.artifactId() + "/";
    for (Publication.FileEntry f : p.files()) {
      String sha256 = VerifiedCopy.sha256(f.source());
      long size = Files.size(f.source());
      String uri = p.version() + "/" + p.name() + "/" + sha256.substring(0, 16) + "/" + f.fileName();
      Map<String, Object> item = new LinkedHashMap<>();
      item.put("uri", uri);
      item.put("name", f.fileName());
      item.put("type", "file");
      item.put("size", size);
      item.put("sha256", sha256);
      item.put("sha1Hash", VerifiedCopy.sha1(f.source())); // what DJL's own repositories check
      files.put(f.key(), item);
      published.put(f.key(), new PublishedFile(modelDir + uri, size, sha256));
      copies.add(new Path[] {f.source(), repo.resolve(modelDir + uri)});
    }
    Map<String, Object> artifact = new LinkedHashMap<>();
    artifact.put("version", p.version());
    artifact.put("snapshot", p.version().endsWith("-SNAPSHOT"));
    artifact.put("name", p.name());
    artifact.put("properties", new LinkedHashMap<>(p.properties()));
    artifact.put("arguments", new LinkedHashMap<>(p.arguments()));
    artifact.put("files", files);

    Files.createDirectories(repo);
    Path metadataFile = repo.resolve(modelDir + "metadata.json");
    try (Lock lock = Lock.acquire(repo)) {
      for (Path[] c : copies) {
        if (!(Files.isRegularFile(c[1]) && Files.size(c[1]) == Files.size(c[0]))) {
          AtomicFiles.copy(c[0], c[1]);
        }
      }
      Map<String, Object> meta = readObject(metadataFile);
      if (meta == null) {
        meta = new LinkedHashMap<>();
        meta.put("metadataVersion", METADATA_VERSION);
        meta.put("resourceType", "model");
        meta.put("application", p.application());
        meta.put("groupId", p.groupId());
        meta.put("artifactId", p.artifactId());
        meta.put("name", p.artifactId());
        meta.put("description", p.description() != null ? p.description()
            : "CortexSDR-compressed model (.cai), loaded by the DJL engine CortexSDR");
        meta.put("artifacts", new ArrayList<>());
      } else if (!p.application().equals(meta.get("application"))) {
        throw new IllegalArgumentException(metadataFile + ": the model is published as " + meta.get("application")
            + ", not " + p.application() + " (one model, one application)");
      }
      if (p.description() != null) {
        meta.put("description", p.description());
      }
      List<Object> artifacts = new ArrayList<>(asList(meta.get("artifacts"), metadataFile));
      artifacts.removeIf(o -> o instanceof Map<?, ?> a && p.version().equals(a.get("version"))
          && p.name().equals(a.get("name")));
      artifacts.add(artifact);
      // newest version first, then in publishing order: DJL's loaders take the first artifact that matches
      artifacts.sort(Comparator.comparing((Object o) -> new Version(String.valueOf(((Map<?, ?>) o).get("version"))))
          .reversed());
      meta.put("artifacts", artifacts);
      AtomicFiles.write(metadataFile, (Json.write(meta) + "\n").getBytes(StandardCharsets.UTF_8));
      updateIndex(repo, p);
    }
    return new Result(metadataFile, published);
  }

  private static void updateIndex(Path repo, Publication p) throws IOException {
    Path indexFile = repo.resolve("index.json");
    Map<String, Object> index = readObject(indexFile);
    if (index == null) {
      index = new LinkedHashMap<>();
      index.put("models", new ArrayList<>());
    }
    List<Object> models = new ArrayList<>(asList(index.get("models"), indexFile));
    boolean listed = models.stream().anyMatch(o -> o instanceof Map<?, ?> m && p.groupId().equals(m.get("groupId"))
        && p.artifactId().equals(m.get("artifactId")));
    if (!listed) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("application", p.application());
      m.put("groupId", p.groupId());
      m.put("artifactId", p.artifactId());
      models.add(m);
      index.put("models", models);
      AtomicFiles.write(indexFile, (Json.write(index) + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> readObject(Path file) throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    Object o;
    try {
      o = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": not JSON (" + e.getMessage() + "); fix or remove it before publishing", e);
    }
    if (!(o instanceof Map)) {
      throw new IOException(file + ": not a JSON object");
    }
    return new LinkedHashMap<>((Map<String, Object>) o);
  }

  private static List<?> asList(Object o, Path file) throws IOException {
    if (!(o instanceof List<?> l)) {
      throw new IOException(file + ": its list is missing or not a list");
    }
    return l;
  }

  /** The repository's publishing lock: the JVM's for this folder, then the file lock other processes see. */
  private static final class Lock implements AutoCloseable {
    private final ReentrantLock jvm;
    private final FileChannel channel;
    private final FileLock file;

    private Lock(ReentrantLock jvm, FileChannel channel, FileLock file) {
      this.jvm = jvm;
      this.channel = channel;
      this.file = file;
    }

    static Lock acquire(Path repo) throws IOException {
      Path key = repo.toRealPath();
      ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(key, k -> new ReentrantLock());
      jvm.lock(); // a second FileChannel.lock in one JVM would throw, not wait
      FileChannel ch = null;
      try {
        ch = FileChannel.open(key.resolve(".publish.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        return new Lock(jvm, ch, ch.lock());
      } catch (IOException | RuntimeException e) {
        if (ch != null) {
          ch.close();
        }
        jvm.unlock();
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      try {
        file.release();
        channel.close();
      } finally {
        jvm.unlock();
      }
    }
  }
}
