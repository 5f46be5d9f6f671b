package dev.selfbyt.cortexsdr.zoo.publish;

import dev.selfbyt.cortexsdr.zoo.RepoPath;
import dev.selfbyt.cortexsdr.zoo.ZooIntegrityException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One model to publish: its coordinates, the properties a {@code Criteria.optFilter} selects it by,
 * the arguments its translator gets (in DJL's metadata, {@code translatorFactory} among them), and
 * its files. The artifact {@code name} (default: the artifact id and the property values joined by
 * '-') tells two variants of one version apart and is the Maven artifact id of {@code publish --maven}.
 *
 * @param groupId the group, reverse-DNS ({@code com.example.models})
 * @param artifactId the model family ({@code all-minilm-l6-v2})
 * @param version the version ({@code 1.0.0})
 * @param application DJL's application path ({@code nlp/text_embedding})
 * @param name the artifact name
 * @param description a line about the model, or null
 * @param properties what filters select it by ({@code quantization=int8})
 * @param arguments the translator's arguments
 * @param files the files, the {@code .cai} first
 */
public record Publication(String groupId, String artifactId, String version, String application, String name,
    String description, Map<String, String> properties, Map<String, Object> arguments, List<FileEntry> files) {

  /**
   * One file of the artifact.
   *
   * @param key its key in the metadata ({@code model}, {@code tokenizer})
   * @param fileName its name in the model folder DJL loads ({@code model.cai}, {@code tokenizer.json})
   * @param source the file to publish
   */
  public record FileEntry(String key, String fileName, Path source) {}

  /** Checks every name (plain path segments) and that the files exist. */
  public Publication {
    properties = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    arguments = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(arguments));
    files = List.copyOf(files);
    if (name == null) {
      List<String> parts = new ArrayList<>(List.of(artifactId));
      parts.addAll(properties.values());
      name = String.join("-", parts);
    }
    try {
      if (groupId == null || !groupId.matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*")) {
        throw new IllegalArgumentException("group '" + groupId + "' is not a reverse-DNS name (com.example.models)");
      }
      RepoPath.checkSegment(artifactId, "publication", "artifact");
      RepoPath.checkSegment(version, "publication", "version");
      RepoPath.checkSegment(name, "publication", "name");
      RepoPath.check(application, "publication", "application");
      for (Map.Entry<String, String> p : properties.entrySet()) {
        if (p.getKey().isEmpty() || p.getValue() == null) {
          throw new IllegalArgumentException("property '" + p.getKey() + "' needs a key and a value");
        }
      }
      if (files.isEmpty()) {
        throw new IllegalArgumentException("a publication needs at least the model file");
      }
      List<String> names = new ArrayList<>();
      for (FileEntry f : files) {
        RepoPath.checkSegment(f.key(), "publication", "file key");
        RepoPath.checkSegment(f.fileName(), "publication", "file name");
        if (names.contains(f.fileName())) {
          throw new IllegalArgumentException("two files named " + f.fileName());
        }
        names.add(f.fileName());
        if (!Files.isRegularFile(f.source())) {
          throw new IllegalArgumentException(f.source() + ": no such file (" + f.key() + ")");
        }
      }
    } catch (ZooIntegrityException e) {
      throw new IllegalArgumentException(e.getMessage().replaceFirst("^publication: ", ""), e);
    }
  }
}
