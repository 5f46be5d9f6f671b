package dev.selfbyt.cortexsdr.zoo;

import ai.djl.repository.Artifact;
import ai.djl.repository.Metadata;
import ai.djl.util.JsonUtils;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a repository's {@code metadata.json} (DJL's format: {@code metadataVersion}, {@code
 * application}, {@code groupId}, {@code artifactId}, {@code artifacts} each with {@code version},
 * {@code name}, {@code properties}, {@code arguments}, {@code options} and {@code files}) and checks
 * it before DJL sees it: every file has a plain relative {@code uri} ({@link RepoPath}), a plain
 * {@code name}, a {@code size} under the limit and a {@code sha256} (an addition DJL ignores; DJL's
 * own {@code sha1Hash} may be there too). The checks are kept per artifact for {@link ZooRepository}.
 */
public final class ZooMetadata {
  /**
   * One file of an artifact as the metadata declares it.
   *
   * @param key the key in the artifact's {@code files}
   * @param path the file's path from the repository's root
   * @param fileName its name in the prepared model folder
   * @param size its size in bytes
   * @param sha256 its sha256, lowercase hex
   */
  public record FileCheck(String key, String path, String fileName, long size, String sha256) {}

  /**
   * Checked metadata: DJL's object, and the declared files of each of its artifacts.
   *
   * @param metadata DJL's metadata
   * @param files each artifact's files (an identity map)
   */
  public record Checked(Metadata metadata, Map<Artifact, List<FileCheck>> files) {}

  private ZooMetadata() {}

  /**
   * Parses and checks {@code json}, read from {@code location}.
   *
   * @param metadataDir the folder of the metadata file from the repository root, ending in '/'
   * @param groupId the group the path it was read from implies
   * @param artifactId the artifact the path implies
   */
  public static Checked parse(byte[] json, String location, String metadataDir, String groupId, String artifactId,
      ZooLimits limits) throws ZooIntegrityException {
    String text = new String(json, StandardCharsets.UTF_8);
    Map<String, Object> root;
    try {
      root = asMap(Json.parse(text), location, "the file");
    } catch (IllegalArgumentException e) {
      throw malformed(location, "not JSON: " + e.getMessage());
    }
    if (!groupId.equals(root.get("groupId")) || !artifactId.equals(root.get("artifactId"))) {
      throw malformed(location, "declares " + root.get("groupId") + ":" + root.get("artifactId") + " but sits where "
          + groupId + ":" + artifactId + " belongs");
    }
    if (!(root.get("application") instanceof String)) {
      throw malformed(location, "has no application");
    }
    if (!(root.get("artifacts") instanceof List<?> artifacts)) {
      throw malformed(location, "has no artifacts list");
    }
    List<List<FileCheck>> checks = new ArrayList<>();
    Set<String> versionNames = new HashSet<>();
    for (Object o : artifacts) {
      Map<String, Object> a = asMap(o, location, "an artifact");
      String version = RepoPath.checkSegment(str(a.get("version")), location, "artifact version");
      String name = RepoPath.checkSegment(str(a.get("name")), location, "artifact name");
      if (!versionNames.add(version + "/" + name)) {
        throw malformed(location, "lists artifact " + name + " version " + version + " twice");
      }
      Map<String, Object> files = asMap(a.get("files"), location, "the files of " + name + " " + version);
      if (files.isEmpty()) {
        throw malformed(location, "artifact " + name + " " + version + " has no files");
      }
      List<FileCheck> list = new ArrayList<>();
      Set<String> fileNames = new HashSet<>();
      for (Map.Entry<String, Object> f : files.entrySet()) {
        String what = "file '" + f.getKey() + "' of " + name + " " + version;
        Map<String, Object> item = asMap(f.getValue(), location, what);
        String uri = RepoPath.check(str(item.get("uri")), location, "the uri of " + what);
        String fileName = item.get("name") == null ? uri.substring(uri.lastIndexOf('/') + 1)
            : RepoPath.checkSegment(str(item.get("name")), location, "the name of " + what);
        if (!fileNames.add(fileName)) {
          throw malformed(location, what + ": two files named " + fileName);
        }
        if (!(item.get("size") instanceof Long size) || size < 0) {
          throw malformed(location, what + " has no size in bytes (the zoo needs one for every file)");
        }
        if (size > limits.maxFileBytes()) {
          throw new ZooIntegrityException(ZooIntegrityException.Reason.TOO_LARGE, location, what + " declares " + size
              + " bytes, more than the limit of " + limits.maxFileBytes() + " (raise " + ZooLimits.MAX_FILE_BYTES
              + " if you trust this repository)");
        }
        String sha = str(item.get("sha256"));
        if (sha == null || !sha.matches("[0-9a-fA-F]{64}")) {
          throw malformed(location, what + " has no sha256 (the zoo checks every file by its sha256)");
        }
        list.add(new FileCheck(f.getKey(), metadataDir + uri, fileName, size, sha.toLowerCase(java.util.Locale.ROOT)));
      }
      checks.add(list);
    }
    Metadata metadata;
    try {
      metadata = JsonUtils.GSON.fromJson(text, Metadata.class);
    } catch (RuntimeException e) {
      throw malformed(location, "DJL cannot read it: " + e.getMessage());
    }
    Map<Artifact, List<FileCheck>> byArtifact = new IdentityHashMap<>();
    for (int i = 0; i < checks.size(); i++) {
      Artifact a = metadata.getArtifacts().get(i);
      for (FileCheck c : checks.get(i)) {
        // the item's name decides where DJL's loaders look: keep it the checked one
        a.getFiles().get(c.key()).setName(c.fileName());
      }
      byArtifact.put(a, checks.get(i));
    }
    return new Checked(metadata, byArtifact);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o, String location, String what) throws ZooIntegrityException {
    if (!(o instanceof Map)) {
      throw malformed(location, what + " is not a JSON object");
    }
    return (Map<String, Object>) o;
  }

  private static String str(Object o) {
    return o instanceof String s ? s : null;
  }

  private static ZooIntegrityException malformed(String location, String detail) {
    return new ZooIntegrityException(ZooIntegrityException.Reason.MALFORMED, location, detail);
  }
}
