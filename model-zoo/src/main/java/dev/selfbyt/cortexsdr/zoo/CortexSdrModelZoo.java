package dev.selfbyt.cortexsdr.zoo;

import ai.djl.repository.MRL;
import ai.djl.repository.zoo.BaseModelLoader;
import ai.djl.repository.zoo.ModelLoader;
import ai.djl.repository.zoo.ModelZoo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The CortexSDR model zoo (group {@value #GROUP_ID}, engine {@code CortexSDR}): every model in the
 * repositories it reads, one DJL loader per artifact id. The zoo DJL registers (through {@link
 * CortexSdrZooProvider}) reads the locations in the system property {@value #REPOSITORIES}
 * (comma-separated: folders or {@code file:} URLs, {@code jar:///prefix}, {@code jar:file:...!/prefix},
 * {@code http(s)://} URLs), then every {@code cortexsdr-zoo/index.json} on the thread's context
 * class path (zoo jars and Maven artifacts written by {@code cortexsdr publish}); it reads them again
 * when the property or the context class loader changes. {@link #of} makes a zoo over given
 * locations only, for {@code Criteria.optModelZoo}.
 */
public class CortexSdrModelZoo extends ModelZoo {
  /** The zoo's group id, the host of its {@code djl://} URLs. */
  public static final String GROUP_ID = "dev.selfbyt.cortexsdr.zoo";
  /** The system property naming extra repositories for the registered zoo. */
  public static final String REPOSITORIES = "dev.selfbyt.cortexsdr.zoo.repositories";

  private static final Logger LOG = Logger.getLogger(CortexSdrModelZoo.class.getName());

  private final List<String> fixedLocations;
  private Object builtFor;
  private ZooRepository repository;
  private Map<String, ModelLoader> loaders = Map.of();

  /** The zoo over the property's repositories and the classpath (the one DJL registers). */
  public CortexSdrModelZoo() {
    this.fixedLocations = null;
  }

  private CortexSdrModelZoo(List<String> locations) {
    this.fixedLocations = List.copyOf(locations);
  }

  /** A zoo over these locations only (no classpath scan, no system property). */
  public static CortexSdrModelZoo of(String... locations) {
    return new CortexSdrModelZoo(List.of(locations));
  }

  @Override
  public String getGroupId() {
    return GROUP_ID;
  }

  @Override
  public Set<String> getSupportedEngines() {
    return Set.of("CortexSDR");
  }

  @Override
  public Collection<ModelLoader> getModelLoaders() {
    return current().values();
  }

  @Override
  public ModelLoader getModelLoader(String name) {
    return current().get(name);
  }

  /** The repository the zoo reads now. */
  public synchronized ZooRepository repository() {
    current();
    return repository;
  }

  /** The locations read now, in order. */
  public List<String> locations() {
    if (fixedLocations != null) {
      return fixedLocations;
    }
    List<String> out = new ArrayList<>();
    String p = System.getProperty(REPOSITORIES, "");
    for (String s : p.split(",")) {
      if (!s.isBlank()) {
        out.add(s.trim());
      }
    }
    out.add("classpath");
    return out;
  }

  private synchronized Map<String, ModelLoader> current() {
    List<String> locations = locations();
    Object key = List.of(locations, System.identityHashCode(ZooRepository.contextLoader()));
    if (key.equals(builtFor)) {
      return loaders;
    }
    List<ZooSource> sources = new ArrayList<>();
    for (String l : locations) {
      try {
        sources.addAll(ZooSource.parse(l, ZooRepository.contextLoader()));
      } catch (IOException | IllegalArgumentException e) {
        LOG.log(Level.WARNING, "CortexSDR zoo: skipping repository " + l + ": " + e.getMessage());
      }
    }
    ZooRepository repo = new ZooRepository(String.join(",", locations), sources);
    Map<String, ModelLoader> map = new LinkedHashMap<>();
    for (MRL mrl : repo.getResources()) {
      ModelLoader had = map.putIfAbsent(mrl.getArtifactId(), new BaseModelLoader(mrl));
      if (had != null && !had.getGroupId().equals(mrl.getGroupId())) {
        LOG.log(Level.WARNING, "CortexSDR zoo: artifact id " + mrl.getArtifactId() + " is in groups "
            + had.getGroupId() + " and " + mrl.getGroupId() + "; the first is served");
      }
    }
    repository = repo;
    loaders = map;
    builtFor = key;
    return loaders;
  }
}
