package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.zoo.publish.MavenArtifactWriter;
import dev.selfbyt.cortexsdr.zoo.publish.Publication;
import dev.selfbyt.cortexsdr.zoo.publish.RepositoryPublisher;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cortexsdr publish MODEL.cai --repo DIR|--maven DIR --group G --artifact A --version V
 * --application APP}: checks the {@code .cai} ({@code verify}), then adds it, its tokenizer and any
 * {@code --file}, to a DJL repository folder ({@link RepositoryPublisher}: locked, every file written
 * whole) and/or writes it as a Maven artifact ({@link MavenArtifactWriter}). The metadata carries
 * {@code engine=CortexSDR}, the translator and its {@code --argument}s (for DJL's text embedding
 * translator, {@code includeTokenTypes=true} when the stored graph has a {@code token_type_ids}
 * input), so that DJL loads the model by name with nothing else said.
 */
@Command(name = "publish", versionProvider = CortexSdrCommand.Version.class,
    description = "Publish a .cai model into a DJL model repository (--repo) or as a Maven artifact (--maven), "
        + "loadable by name through the CortexSDR model zoo.")
final class PublishCommand implements Callable<Integer> {
  /** The translator a text embedding model gets when none is named. */
  static final String TEXT_EMBEDDING_TRANSLATOR = "ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  // no standard --version here: --version is the model's; `cortexsdr --version` still tells the tool's
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
  boolean help;

  @Parameters(index = "0", paramLabel = "MODEL.cai")
  Path model;

  @Option(names = "--repo", paramLabel = "DIR", description = "the repository folder to add the model to (created if missing)")
  Path repo;

  @Option(names = "--maven", paramLabel = "DIR", description = "write <name>-<version>.jar and .pom into DIR")
  Path maven;

  @Option(names = "--group", required = true, paramLabel = "G", description = "group id, e.g. com.example.models")
  String group;

  @Option(names = "--artifact", required = true, paramLabel = "A", description = "artifact id, e.g. all-minilm-l6-v2")
  String artifact;

  @Option(names = "--version", required = true, paramLabel = "V", description = "the model's version, e.g. 1.0.0")
  String version;

  @Option(names = "--application", required = true, paramLabel = "APP",
      description = "DJL application path, e.g. nlp/text_embedding, cv/image_classification")
  String application;

  @Option(names = "--name", paramLabel = "N",
      description = "artifact name (default: the artifact id and the property values, joined by '-'); the Maven artifact id")
  String name;

  @Option(names = "--property", paramLabel = "K=V", description = "a property Criteria.optFilter selects by (repeatable)")
  Map<String, String> properties = new LinkedHashMap<>();

  @Option(names = "--argument", paramLabel = "K=V",
      description = "a translator argument (repeatable; numbers and true/false are typed), e.g. pooling=mean")
  Map<String, String> arguments = new LinkedHashMap<>();

  @Option(names = "--translator", paramLabel = "CLASS", description = "the TranslatorFactory class (default for "
      + "nlp/text_embedding: " + TEXT_EMBEDDING_TRANSLATOR + ")")
  String translator;

  @Option(names = "--tokenizer", paramLabel = "PATH",
      description = "tokenizer.json to ship (default: tokenizer.json or <model>-tokenizer.json beside the model)")
  Path tokenizer;

  @Option(names = "--file", paramLabel = "KEY=PATH", description = "another file to ship, e.g. config=config.json (repeatable)")
  Map<String, Path> files = new LinkedHashMap<>();

  @Option(names = "--description", paramLabel = "TEXT", description = "one line about the model")
  String description;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (repo == null && maven == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "say where to publish: --repo DIR and/or --maven DIR");
    }
    List<String> inputs = new ArrayList<>();
    try (CaiReader cai = CaiReader.open(model)) {
      cai.verify(); // nothing damaged goes out under a hash that would vouch for it
      try {
        OnnxExporter.storedModel(cai).getGraph().getInputList().forEach(i -> inputs.add(i.getName()));
      } catch (dev.selfbyt.cortexsdr.core.format.CaiException notOnnx) {
        // a graph of another format: its inputs are not read here; --argument says what the translator needs
      }
    }
    Publication p = publication(inputs);
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("group", p.groupId());
    result.put("artifact", p.artifactId());
    result.put("version", p.version());
    result.put("name", p.name());
    if (repo != null) {
      RepositoryPublisher.Result r = RepositoryPublisher.publish(repo, p);
      result.put("repository", repo.toAbsolutePath().toString());
      result.put("metadata", r.metadata().toAbsolutePath().toString());
      Map<String, Object> fs = new LinkedHashMap<>();
      r.files().forEach((k, f) -> fs.put(k, Map.of("path", f.path(), "size", f.size(), "sha256", f.sha256())));
      result.put("files", fs);
      if (!json) {
        out.printf("published %s:%s:%s (%s) into %s: %s%n", p.groupId(), p.artifactId(), p.version(), p.name(), repo,
            String.join(", ", r.files().entrySet().stream().map(e -> e.getKey() + " " + e.getValue().size()
                + " bytes").toList()));
        out.printf("load it: -D%s=%s, then Criteria...optModelUrls(\"djl://dev.selfbyt.cortexsdr.zoo/%s\")%n",
            "dev.selfbyt.cortexsdr.zoo.repositories", repo.toAbsolutePath().normalize().toUri(), p.artifactId());
      }
    }
    if (maven != null) {
      MavenArtifactWriter.Result m = MavenArtifactWriter.write(maven, p);
      result.put("jar", m.jar().toAbsolutePath().toString());
      result.put("pom", m.pom().toAbsolutePath().toString());
      if (!json) {
        out.printf("wrote %s and %s%ninstall it: mvn install:install-file -Dfile=%s -DpomFile=%s%n", m.jar(), m.pom(),
            m.jar(), m.pom());
      }
    }
    if (json) {
      out.println(Json.write(result));
    }
    return 0;
  }

  private Publication publication(List<String> graphInputs) throws java.io.IOException {
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("engine", "CortexSDR");
    String factory = translator != null ? translator
        : application.equals("nlp/text_embedding") ? TEXT_EMBEDDING_TRANSLATOR : null;
    if (factory != null) {
      args.put("translatorFactory", factory);
    }
    if (TEXT_EMBEDDING_TRANSLATOR.equals(factory) && graphInputs.contains("token_type_ids")) {
      // the model reads token type ids (BERT-style): DJL's text translator sends them only when told
      args.put("includeTokenTypes", true);
    }
    arguments.forEach((k, v) -> args.put(k, typed(v)));
    List<Publication.FileEntry> entries = new ArrayList<>();
    entries.add(new Publication.FileEntry("model", "model.cai", model));
    Path tok = tokenizer != null ? tokenizer : besideModel();
    if (tok != null) {
      entries.add(new Publication.FileEntry("tokenizer", "tokenizer.json", tok));
    } else if (factory != null && factory.startsWith("ai.djl.huggingface.")) {
      throw new CommandLine.ParameterException(spec.commandLine(), "the translator " + factory + " needs the model's "
          + "tokenizer.json: none beside " + model + "; give it with --tokenizer PATH");
    }
    files.forEach((k, f) -> entries.add(new Publication.FileEntry(k, f.getFileName().toString(), f)));
    try {
      return new Publication(group, artifact, version, application, name, description, properties, args, entries);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private Path besideModel() {
    Path dir = model.toAbsolutePath().getParent();
    String stem = model.getFileName().toString().replaceFirst("\\.cai$", "");
    for (String n : List.of("tokenizer.json", stem + "-tokenizer.json")) {
      if (Files.isRegularFile(dir.resolve(n))) {
        return dir.resolve(n);
      }
    }
    return null;
  }

  /** A command-line value as the JSON type a translator reads: integer, decimal, boolean or text. */
  static Object typed(String v) {
    String t = v.trim().toLowerCase(Locale.ROOT);
    if (t.equals("true") || t.equals("false")) {
      return Boolean.parseBoolean(t);
    }
    if (t.matches("-?\\d{1,18}")) {
      return Long.parseLong(t);
    }
    if (t.matches("-?\\d+\\.\\d+([eE][-+]?\\d+)?")) {
      return Double.parseDouble(t);
    }
    return v;
  }
}
