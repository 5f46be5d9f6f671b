package dev.selfbyt.cortexsdr.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;

/**
 * The DJL engine named {@value #ENGINE_NAME}: runs {@code .cai} models with weights kept
 * compressed. Get it with {@code Engine.getEngine("CortexSDR")}, or let DJL pick it through {@code
 * Criteria.builder().optEngine("CortexSDR")} or {@code engine=CortexSDR} in a model folder's
 * {@code serving.properties}. NDArray operators it lacks go to DJL's alternative engine: PyTorch
 * when present, else the default engine when that is another one.
 */
public final class CortexSdrEngine extends Engine {
  public static final String ENGINE_NAME = "CortexSDR";
  /**
   * After DJL's native engines (PyTorch 2, Rust 4, OnnxRuntime 10): never the default when they are
   * present; before the RPC engine in DJL's own api jar (15), which has no NDArrays, so that with
   * only ai.djl:api and this engine on the classpath {@code NDManager.newBaseManager()} makes
   * CortexSDR arrays.
   */
  static final int RANK = 14;

  private Engine alternativeEngine;
  private boolean alternativeChecked;

  CortexSdrEngine() {}

  @Override
  public synchronized Engine getAlternativeEngine() {
    if (!alternativeChecked && !EngineSettings.alternativeEngineDisabled()) {
      Engine e = null;
      if (Engine.hasEngine("PyTorch")) {
        e = Engine.getEngine("PyTorch");
      } else {
        // the default engine when it computes NDArrays itself: not OnnxRuntime (its arrays delegate
        // too) and not a lower-priority engine such as DJL's RPC engine (no NDArrays at all)
        String def = Engine.getDefaultEngineName();
        if (def != null && !def.equals(ENGINE_NAME) && !def.equals("OnnxRuntime") && Engine.hasEngine(def)
            && Engine.getEngine(def).getRank() < RANK) {
          e = Engine.getEngine(def);
        }
      }
      alternativeEngine = e;
      alternativeChecked = true;
    }
    return alternativeEngine;
  }

  @Override
  public String getEngineName() {
    return ENGINE_NAME;
  }

  @Override
  public int getRank() {
    return RANK;
  }

  @Override
  public String getVersion() {
    return dev.selfbyt.cortexsdr.core.CortexSdr.VERSION; // the pom's, through core's version.properties
  }

  @Override
  public boolean hasCapability(String capability) {
    return false;
  }

  @Override
  public Model newModel(String name, Device device) {
    return new CaiModel(name, newBaseManager(device));
  }

  @Override
  public NDManager newBaseManager() {
    return newBaseManager(null);
  }

  @Override
  public NDManager newBaseManager(Device device) {
    return CaiNDManager.getSystemManager().newSubManager(device);
  }

  @Override
  public String toString() {
    return ENGINE_NAME + ":" + getVersion() + ", kernels: " + Kernels.get().name() + ", threads: "
        + KernelThreads.defaultPool().threadCount();
  }
}
