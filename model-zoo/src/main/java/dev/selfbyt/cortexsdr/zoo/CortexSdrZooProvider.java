package dev.selfbyt.cortexsdr.zoo;

import ai.djl.repository.zoo.ModelZoo;
import ai.djl.repository.zoo.ZooProvider;

/**
 * Registers the {@link CortexSdrModelZoo} with DJL (listed in {@code
 * META-INF/services/ai.djl.repository.zoo.ZooProvider}), so that {@code ModelZoo.listModelZoo()}
 * shows it and a {@code Criteria} with {@code optEngine("CortexSDR")} searches it.
 */
public final class CortexSdrZooProvider implements ZooProvider {
  @Override
  public ModelZoo getModelZoo() {
    return new CortexSdrModelZoo();
  }
}
