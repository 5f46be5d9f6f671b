package dev.selfbyt.cortexsdr.zoo;

import ai.djl.Application;
import ai.djl.repository.Artifact;
import ai.djl.repository.MRL;
import ai.djl.repository.Metadata;
import ai.djl.repository.Repository;
import ai.djl.repository.Version;
import ai.djl.repository.VersionRange;
import ai.djl.util.Progress;
import ai.djl.util.Utils;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A DJL {@link Repository} over one or more {@link ZooSource}s. {@link #locate} reads a model's
 * {@code metadata.json} from every source that holds one, checks each ({@link ZooMetadata}) and
 * merges their artifacts (newest version first; a version and name already seen is skipped);
 * {@link #prepare} copies an artifact's files into DJL's cache ({@code DJL_CACHE_DIR}, {@code
 * cache/repo/...}) under a folder named by the files' hashes, through a temporary folder renamed into
 * place only after every file matched its size and sha256. A refused download leaves nothing behind,
 * and a model republished with other bytes never meets the old copy. Get one with {@link #of}.
 */
public final class ZooRepository implements Repository {
  private static final Logger LOG = Logger.getLogger(ZooRepository.class.getName());

  /** Where an artifact was read, and the files it declares. */
  private record Origin(ZooSource source, List<ZooMetadata.FileCheck> files) {}

  private final String name;
  private final List<ZooSource> sources;
  private final Map<Artifact, Origin> origins = Collections.synchronizedMap(new IdentityHashMap<>());
  private List<MRL> fixedResources;

  ZooRepository(String name, List<ZooSource> sources) {
    this.name = name;
    this.sources = List.copyOf(sources);
  }

  /**
   * A repository over the locations given ({@link ZooSource#parse}: folders, {@code file:}, {@code
   * jar:///prefix}, {@code jar:file:...!/prefix}, {@code http(s)://}); {@code jar:///} prefixes are
   * looked up in the thread's context class loader.
   */
  public static ZooRepository of(String... locations) throws IOException {
    List<ZooSource> s = new ArrayList<>();
    for (String l : locations) {
      s.addAll(ZooSource.parse(l, contextLoader()));
    }
    return new ZooRepository(String.join(",", locations), s);
  }

  static ClassLoader contextLoader() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return cl != null ? cl : ZooRepository.class.getClassLoader();
  }

  /** The sources read, in order. */
  public List<ZooSource> sources() {
    return sources;
  }

  /** The same sources with one resource only (a {@code djl://} URL names one model). */
  ZooRepository withResource(Application app, String groupId, String artifactId, String version, String artifactName) {
    ZooRepository r = new ZooRepository(name, sources);
    r.fixedResources = new ArrayList<>(List.of(MRL.model(r, app, groupId, artifactId, version, artifactName)));
    return r;
  }

  @Override
  public boolean isRemote() {
    return true; // every source is copied into the cache, checked, before DJL reads it
  }

  @Override
  public String getName() {
    return name;
  }

  @Override
  public URI getBaseUri() {
    return sources.isEmpty() ? URI.create("cortexsdr-zoo:empty") : URI.create(sources.get(0).describe(""));
  }

  @Override
  public Metadata locate(MRL mrl) throws IOException {
    String dir = metadataDir(mrl);
    Metadata merged = null;
    List<Artifact> artifacts = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    ZooLimits limits = ZooLimits.defaults();
    for (ZooSource source : sources) {
      String path = dir + "metadata.json";
      byte[] json = source.readSmall(path, limits.maxMetadataBytes());
      if (json == null) {
        continue;
      }
      ZooMetadata.Checked c = ZooMetadata.parse(json, source.describe(path), dir, mrl.getGroupId(),
          mrl.getArtifactId(), limits);
      if (merged == null) {
        merged = c.metadata();
      }
      for (Artifact a : c.metadata().getArtifacts()) {
        String key = a.getVersion() + "/" + a.getName();
        if (seen.contains(key)) {
          LOG.log(Level.FINE, () -> source.describe(path) + ": " + key + " already found in an earlier source");
          continue;
        }
        seen.add(key);
        artifacts.add(a);
        origins.put(a, new Origin(source, c.files().get(a)));
      }
    }
    if (merged == null) {
      return null;
    }
    // newest version first; within a version the order the sources list them (DJL's loaders take the first match)
    artifacts.sort(Comparator.comparing((Artifact a) -> new Version(a.getVersion())).reversed());
    merged.setArtifacts(artifacts);
    merged.setRepositoryUri(mrl.toURI());
    return merged;
  }

  private static String metadataDir(MRL mrl) throws ZooIntegrityException {
    String dir = mrl.toURI().getPath();
    RepoPath.check(dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir, mrl.toString(), "the model path");
    return dir;
  }

  @Override
  public Artifact resolve(MRL mrl, Map<String, String> filter) throws IOException {
    Metadata m = locate(mrl);
    if (m == null) {
      return null;
    }
    return m.search(VersionRange.parse(mrl.getVersion()), filter).stream().findFirst().orElse(null);
  }

  @Override
  public InputStream openStream(Artifact.Item item, String path) throws IOException {
    return Files.newInputStream(getFile(item, path));
  }

  @Override
  public Path getFile(Artifact.Item item, String path) throws IOException {
    Path f = getResourceDirectory(item.getArtifact()).resolve(item.getName());
    return path == null || path.isEmpty() ? f : f.resolve(RepoPath.check(path, f.toString(), "the path"));
  }

  @Override
  public String[] listDirectory(Artifact.Item item, String path) throws IOException {
    String[] names = getFile(item, path).toFile().list();
    return names == null ? new String[0] : names;
  }

  @Override
  public Path getCacheDirectory() throws IOException {
    return Files.createDirectories(Utils.getCacheDir().resolve("cache/repo"));
  }

  /** DJL's cache folder for the artifact, one level down, named by its files' sha256s. */
  @Override
  public Path getResourceDirectory(Artifact artifact) throws IOException {
    Origin o = origin(artifact);
    var md = VerifiedCopy.sha256();
    o.files().stream().sorted(Comparator.comparing(ZooMetadata.FileCheck::key)).forEach(f ->
        md.update((f.key() + "=" + f.sha256() + "\n").getBytes(StandardCharsets.UTF_8)));
    String content = HexFormat.of().formatHex(md.digest()).substring(0, 16);
    return getCacheDirectory().resolve(artifact.getResourceUri().getPath()).resolve(content);
  }

  private Origin origin(Artifact artifact) {
    Origin o = origins.get(artifact);
    if (o == null) {
      throw new IllegalArgumentException("artifact " + artifact + " was not located through this repository ("
          + name + ")");
    }
    return o;
  }

  @Override
  public void prepare(Artifact artifact, Progress progress) throws IOException {
    Origin o = origin(artifact);
    Path dir = getResourceDirectory(artifact);
    if (complete(dir, o)) {
      return;
    }
    Path parent = Files.createDirectories(dir.getParent());
    long total = o.files().stream().mapToLong(ZooMetadata.FileCheck::size).sum();
    long free = Files.getFileStore(parent).getUsableSpace();
    if (free < total) {
      throw new IOException(parent + ": " + total + " bytes needed for " + artifact + ", " + free + " free");
    }
    removeAbandoned(parent, dir.getFileName().toString());
    Path tmp = Files.createTempDirectory(parent, "." + dir.getFileName() + ".partial-");
    if (progress != null) {
      progress.reset("Downloading", total);
    }
    try {
      for (ZooMetadata.FileCheck f : o.files()) {
        String where = o.source().describe(f.path());
        InputStream in = o.source().open(f.path(), f.size());
        if (in == null) {
          throw new java.io.FileNotFoundException(where + ": listed in the metadata but not in the repository");
        }
        VerifiedCopy.copy(in, tmp.resolve(f.fileName()), where, f.size(), f.sha256(), progress);
      }
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
        if (!complete(dir, o)) { // another loader got there first; its copy is as checked as ours
          throw raced;
        }
      }
    } finally {
      deleteTree(tmp);
      if (progress != null) {
        progress.end();
      }
    }
  }

  /** Temporary folders older than this were left by a process that died mid-download. */
  static final java.time.Duration ABANDONED = java.time.Duration.ofDays(1);

  /**
   * Deletes the temporary folders a killed process left for this cache entry (older than {@link
   * #ABANDONED}; a younger one may be another process downloading now).
   */
  private static void removeAbandoned(Path parent, String entry) throws IOException {
    long cutoff = System.currentTimeMillis() - ABANDONED.toMillis();
    try (var s = Files.newDirectoryStream(parent, "." + entry + ".partial-*")) {
      for (Path p : s) {
        if (Files.getLastModifiedTime(p).toMillis() < cutoff) {
          deleteTree(p);
        }
      }
    }
  }

  /** Whether a cache folder holds every file at its declared size (it only ever appears whole, by a rename). */
  private static boolean complete(Path dir, Origin o) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    for (ZooMetadata.FileCheck f : o.files()) {
      Path p = dir.resolve(f.fileName());
      if (!Files.isRegularFile(p) || Files.size(p) != f.size()) {
        return false;
      }
    }
    return true;
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }

  @Override
  public synchronized List<MRL> getResources() {
    if (fixedResources != null) {
      return fixedResources;
    }
    Map<String, MRL> found = new LinkedHashMap<>();
    for (ZooSource s : sources) {
      try {
        for (String[] m : models(s)) {
          found.putIfAbsent(m[1] + ":" + m[2], MRL.model(this, Application.of(m[0]), m[1], m[2], null, null));
        }
      } catch (IOException e) {
        LOG.log(Level.WARNING, s + ": cannot list its models: " + e.getMessage(), e);
      }
    }
    return new ArrayList<>(found.values());
  }

  /** Each model of a source as {application, groupId, artifactId}: from its index.json, else by walking it. */
  static List<String[]> models(ZooSource s) throws IOException {
    ZooLimits limits = ZooLimits.defaults();
    List<String[]> out = new ArrayList<>();
    byte[] index = s.readSmall("index.json", limits.maxMetadataBytes());
    if (index != null) {
      Object root;
      try {
        root = Json.parse(new String(index, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new ZooIntegrityException(ZooIntegrityException.Reason.MALFORMED, s.describe("index.json"), "not JSON: "
            + e.getMessage());
      }
      if (root instanceof Map<?, ?> m && m.get("models") instanceof List<?> models) {
        for (Object o : models) {
          if (o instanceof Map<?, ?> e && e.get("application") instanceof String app
              && e.get("groupId") instanceof String g && e.get("artifactId") instanceof String a) {
            out.add(new String[] {app, g, a});
          }
        }
        return out;
      }
      throw new ZooIntegrityException(ZooIntegrityException.Reason.MALFORMED, s.describe("index.json"),
          "has no models list");
    }
    for (String path : s.walkMetadata()) {
      byte[] b = s.readSmall(path, limits.maxMetadataBytes());
      if (b != null && Json.parse(new String(b, StandardCharsets.UTF_8)) instanceof Map<?, ?> m
          && m.get("application") instanceof String app && m.get("groupId") instanceof String g
          && m.get("artifactId") instanceof String a) {
        out.add(new String[] {app, g, a});
      }
    }
    return out;
  }

  @Override
  public synchronized void addResource(MRL mrl) {
    if (fixedResources == null) {
      fixedResources = new ArrayList<>();
    }
    fixedResources.add(mrl);
  }

  @Override
  public String toString() {
    return "ZooRepository" + sources;
  }
}
