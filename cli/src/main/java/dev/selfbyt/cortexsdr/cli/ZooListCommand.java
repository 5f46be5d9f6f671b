package dev.selfbyt.cortexsdr.cli;

import ai.djl.repository.Artifact;
import ai.djl.repository.MRL;
import ai.djl.repository.Metadata;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.zoo.ZooRepository;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cortexsdr zoo list --repo URL}: every model of a repository (folder, {@code file:}, {@code
 * jar:}, {@code http(s):}) with its artifacts: version, name, properties, and each file's size. The
 * metadata is read and checked as the zoo reads it, so a repository the zoo would refuse fails here
 * with the same message.
 */
@Command(name = "list", mixinStandardHelpOptions = true, versionProvider = CortexSdrCommand.Version.class,
    description = "List the models and artifacts of a model repository.")
final class ZooListCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--repo", required = true, paramLabel = "URL",
      description = "a folder, file:, jar:file:...!/cortexsdr-zoo, jar:///prefix (classpath) or http(s): URL")
  String repo;

  @Option(names = "--json", description = "print as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    ZooRepository r = ZooRepository.of(repo);
    List<Object> models = new ArrayList<>();
    PrintWriter out = spec.commandLine().getOut();
    for (MRL mrl : r.getResources()) {
      Metadata m = r.locate(mrl);
      if (m == null) {
        continue;
      }
      List<Object> artifacts = new ArrayList<>();
      if (!json) {
        out.printf("%s:%s  %s%n", mrl.getGroupId(), mrl.getArtifactId(), mrl.getApplication().getPath());
      }
      for (Artifact a : m.getArtifacts()) {
        long bytes = a.getFiles().values().stream().mapToLong(Artifact.Item::getSize).sum();
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("version", a.getVersion());
        e.put("name", a.getName());
        e.put("properties", new LinkedHashMap<>(a.getProperties()));
        Map<String, Object> files = new LinkedHashMap<>();
        a.getFiles().forEach((k, f) -> files.put(k, Map.of("name", f.getName(), "size", f.getSize())));
        e.put("files", files);
        artifacts.add(e);
        if (!json) {
          out.printf("  %-10s %-36s %-40s %,d bytes (%s)%n", a.getVersion(), a.getName(), a.getProperties(), bytes,
              String.join(", ", a.getFiles().values().stream().map(Artifact.Item::getName).toList()));
        }
      }
      Map<String, Object> model = new LinkedHashMap<>();
      model.put("groupId", mrl.getGroupId());
      model.put("artifactId", mrl.getArtifactId());
      model.put("application", mrl.getApplication().getPath());
      model.put("artifacts", artifacts);
      models.add(model);
    }
    if (json) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("repository", repo);
      o.put("models", models);
      out.println(Json.write(o));
    } else if (models.isEmpty()) {
      out.println(repo + ": no models");
    }
    return 0;
  }
}
