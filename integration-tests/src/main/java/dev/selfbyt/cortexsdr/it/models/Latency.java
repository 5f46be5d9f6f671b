package dev.selfbyt.cortexsdr.it.models;

import ai.djl.huggingface.tokenizers.Encoding;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Latency of several models on one input, measured in one run: every session is warmed up, then
 * the models take turns, one inference each per round, so that noise from the shared machine falls
 * on all of them alike. Reports the median per model in milliseconds.
 */
final class Latency {
  private Latency() {}

  static Map<String, Double> median(Map<String, Path> models, RealModel.Pooling pooling, Encoding input, int runs,
      int threads) throws Exception {
    Map<String, Embedder> open = new LinkedHashMap<>();
    Map<String, List<Long>> times = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Path> m : models.entrySet()) {
        Embedder e = new Embedder(m.getValue(), pooling, threads);
        open.put(m.getKey(), e);
        times.put(m.getKey(), new ArrayList<>());
        for (int i = 0; i < 5; i++) {
          e.embed(input);
        }
      }
      for (int r = 0; r < runs; r++) {
        for (Map.Entry<String, Embedder> e : open.entrySet()) {
          long t = System.nanoTime();
          e.getValue().embed(input);
          times.get(e.getKey()).add(System.nanoTime() - t);
        }
      }
    } finally {
      for (Embedder e : open.values()) {
        e.close();
      }
    }
    Map<String, Double> out = new LinkedHashMap<>();
    times.forEach((k, v) -> {
      long[] a = v.stream().mapToLong(Long::longValue).toArray();
      Arrays.sort(a);
      out.put(k, a[a.length / 2] / 1e6);
    });
    return out;
  }
}
