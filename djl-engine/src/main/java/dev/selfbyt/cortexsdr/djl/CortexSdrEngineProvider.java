package dev.selfbyt.cortexsdr.djl;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineProvider;

/** Registers {@link CortexSdrEngine} with DJL (listed in {@code META-INF/services/ai.djl.engine.EngineProvider}). */
public final class CortexSdrEngineProvider implements EngineProvider {
  @Override
  public String getEngineName() {
    return CortexSdrEngine.ENGINE_NAME;
  }

  @Override
  public int getEngineRank() {
    return CortexSdrEngine.RANK;
  }

  @Override
  public Engine getEngine() {
    return Holder.INSTANCE;
  }

  private static final class Holder {
    static final Engine INSTANCE = new CortexSdrEngine();
  }
}
