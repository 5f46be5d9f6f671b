package dev.selfbyt.cortexsdr.spark;

import java.util.Locale;

/** How a text encoder's token vectors (its first output, {@code [batch, tokens, dim]}) become one sentence vector. */
public enum Pooling {
  /** The mean over the tokens the attention mask keeps (all-MiniLM-L6-v2, sentence-transformers). */
  MEAN,
  /** The first token's vector ({@code [CLS]}; bge). */
  CLS;

  /** {@code mean} or {@code cls}, any case. */
  public static Pooling parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("pooling '" + s + "': use mean or cls", e);
    }
  }
}
