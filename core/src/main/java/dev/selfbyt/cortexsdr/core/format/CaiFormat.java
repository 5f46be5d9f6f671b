package dev.selfbyt.cortexsdr.core.format;

/**
 * Constants of the {@code .cai} format, shared by {@link CaiWriter} (whose Javadoc is the spec)
 * and {@link CaiReader}.
 */
public final class CaiFormat {
  private CaiFormat() {}

  /** {@code \x89 C A I \r \n \x1a \n}: non-ASCII first byte, and line-ending damage shows. */
  static final byte[] MAGIC = {(byte) 0x89, 'C', 'A', 'I', '\r', '\n', 0x1a, '\n'};

  /** {@code C A I F O O T \0}, the last 8 bytes of every complete file. */
  static final byte[] FOOTER_MAGIC = {'C', 'A', 'I', 'F', 'O', 'O', 'T', 0};

  /** Major version: a reader refuses a file whose major version is higher than this. */
  public static final int VERSION_MAJOR = 1;

  /** Minor version: additions a v1 reader can skip (appended entry fields, new manifest keys). */
  public static final int VERSION_MINOR = 0;

  static final int HEADER_SIZE = 32;
  static final int FOOTER_SIZE = 40;
  static final int SEGMENT_HEADER_SIZE = 24;
  static final int SEGMENT_TRAILER_SIZE = 4;

  /** Tensor payloads start at multiples of this, so a mapped payload can be used in place. */
  public static final int ALIGNMENT = 64;

  static final int TAG_MANIFEST = tag("MANI");
  static final int TAG_GRAPH = tag("GRPH");
  static final int TAG_DIRECTORY = tag("DIRY");

  static final int FLAG_ZSTD = 1;

  private static int tag(String s) {
    return (s.charAt(0)) | (s.charAt(1) << 8) | (s.charAt(2) << 16) | (s.charAt(3) << 24);
  }

  static String tagName(int tag) {
    if (tag == TAG_MANIFEST) {
      return "manifest";
    }
    if (tag == TAG_GRAPH) {
      return "graph";
    }
    if (tag == TAG_DIRECTORY) {
      return "directory";
    }
    return "segment";
  }
}
