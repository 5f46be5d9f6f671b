package dev.selfbyt.cortexsdr.zoo;

import ai.djl.repository.MRL;
import ai.djl.repository.RemoteRepository;
import ai.djl.repository.Repository;
import ai.djl.repository.RepositoryFactory;
import ai.djl.repository.zoo.ModelLoader;
import ai.djl.repository.zoo.ModelZoo;
import java.net.URI;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answers {@code djl://group/artifact[/version[/name]]} URLs (registered through {@code
 * META-INF/services/ai.djl.repository.RepositoryFactory}, which DJL consults after its own schemes,
 * so this one takes {@code djl}). DJL's own answer puts every {@code djl://} model in its remote
 * repository (mlrepo.djl.ai); here the group {@value CortexSdrModelZoo#GROUP_ID} is served from the
 * CortexSDR zoo's repositories instead, and every other group exactly as DJL does.
 */
public final class DjlUrlRepositoryFactory implements RepositoryFactory {
  private static final Pattern VERSIONED = Pattern.compile("(.+)/([\\d.]+)(/(.*))?");

  @Override
  public Repository newInstance(String name, URI uri) {
    String groupId = uri.getHost();
    String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/+", "");
    if (groupId == null || path.isEmpty()) {
      throw new IllegalArgumentException("Invalid djl URL: " + uri + " (djl://group/artifact[/version[/name]])");
    }
    String artifactId = path;
    String version = null;
    String artifactName = null;
    Matcher m = VERSIONED.matcher(path);
    if (m.matches()) {
      artifactId = m.group(1);
      version = m.group(2);
      artifactName = m.group(4);
    }
    ModelZoo zoo = ModelZoo.getModelZoo(groupId);
    if (zoo == null) {
      throw new IllegalArgumentException("ModelZoo not found in classpath: " + groupId);
    }
    ModelLoader loader = zoo.getModelLoader(artifactId);
    if (zoo instanceof CortexSdrModelZoo cortex) {
      if (loader == null) {
        throw new IllegalArgumentException(uri + ": the CortexSDR zoo has no model " + artifactId + " (it holds "
            + cortex.getModelLoaders().stream().map(ModelLoader::getArtifactId).sorted().toList() + "; repositories: "
            + cortex.locations() + ", set " + CortexSdrModelZoo.REPOSITORIES + " to add one)");
      }
      return cortex.repository().withResource(loader.getApplication(), loader.getGroupId(), artifactId, version,
          artifactName);
    }
    // every other zoo: DJL's remote repository, as DJL's own djl:// handling does
    if (loader == null) {
      throw new IllegalArgumentException("Invalid djl URL: " + uri);
    }
    String query = uri.getRawQuery();
    RemoteRepository repo = new RemoteRepository(name,
        query == null ? ModelZoo.DJL_REPO_URL : URI.create(ModelZoo.DJL_REPO_URL + "?" + query));
    MRL mrl = repo.model(loader.getApplication(), groupId, artifactId, version, artifactName);
    repo.addResource(mrl);
    return repo;
  }

  @Override
  public Set<String> getSupportedScheme() {
    return Set.of("djl");
  }
}
