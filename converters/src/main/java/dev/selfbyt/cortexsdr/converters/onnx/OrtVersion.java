package dev.selfbyt.cortexsdr.converters.onnx;

import java.util.Locale;

/**
 * An ONNX Runtime release a quantized export must load in ({@code major.minor}; the patch level
 * never changes which operators exist). Get one with {@link #parse} ({@code "1.21"}, {@code
 * "1.21.1"}) or use {@link #NEWEST} / {@link #OLDEST}.
 *
 * <p>What each release accepts was measured with the real runtimes from Maven Central
 * ({@code com.microsoft.onnxruntime:onnxruntime}, CPU), loading and running one small model per
 * operator form (see {@code docs/onnxruntime.md}), and agrees with the contrib operator schemas in
 * ONNX Runtime's source:
 *
 * <ul>
 *   <li>{@code MatMulNBits} with 4-bit weights: 1.16 and newer;
 *   <li>{@code MatMulNBits} with 8-bit weights: 1.23 (1.16 to 1.22 accept the node and fail in
 *       the kernel's constructor or at the first run);
 *   <li>{@code GatherBlockQuantized}: 1.20, with {@code int4}/{@code uint4} data and no {@code
 *       bits} attribute; from 1.23 also {@code uint8} data with {@code bits} 4 or 8, the form
 *       {@link #NEWEST} exports;
 *   <li>{@code com.microsoft.DequantizeLinear} with a per-axis scale: every release tested;
 *   <li>custom operators through C API version 17 ({@code ai.cortexsdr.SdrMatMul}): 1.17.
 * </ul>
 *
 * @param major the major version (1)
 * @param minor the minor version
 */
public record OrtVersion(int major, int minor) implements Comparable<OrtVersion> {
  /** The oldest release an export can target: the first with {@code MatMulNBits}. */
  public static final OrtVersion OLDEST = new OrtVersion(1, 16);

  /**
   * The newest release whose operators the exporter knows; targeting it (or anything newer)
   * gives the exporter's original output, byte for byte.
   */
  public static final OrtVersion NEWEST = new OrtVersion(1, 29);

  /** The first release with {@code GatherBlockQuantized} (int4/uint4 data, no {@code bits}). */
  public static final OrtVersion GATHER_BLOCK_QUANTIZED = new OrtVersion(1, 20);

  /** The first release with {@code GatherBlockQuantized bits} and {@code MatMulNBits} at 8 bits. */
  public static final OrtVersion EIGHT_BIT_BLOCKS = new OrtVersion(1, 23);

  /** The first release whose C API (version 17) the {@code SdrMatMul} operator library needs. */
  public static final OrtVersion CUSTOM_OPS = new OrtVersion(1, 17);

  public OrtVersion {
    if (major < 1 || minor < 0) {
      throw new IllegalArgumentException("ONNX Runtime version " + major + "." + minor + " does not exist");
    }
  }

  /**
   * Parses {@code 1.21}, {@code 1.21.1} or {@code 1.21.1-rc2} (the patch level and suffix are
   * ignored).
   *
   * @throws IllegalArgumentException if {@code text} is not such a version, or is older than
   *     {@link #OLDEST} (the message says why)
   */
  public static OrtVersion parse(String text) {
    String t = text == null ? "" : text.trim();
    String[] p = t.split("[.-]");
    try {
      if (p.length >= 2) {
        OrtVersion v = new OrtVersion(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
        if (v.compareTo(OLDEST) < 0) {
          throw new IllegalArgumentException("ONNX Runtime " + t + " is too old: quantized weights need "
              + "com.microsoft.MatMulNBits, which ONNX Runtime has from " + OLDEST + " on");
        }
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("'" + t + "' is not an ONNX Runtime version: use MAJOR.MINOR such as 1.21");
  }

  /** The version of a runtime's {@code OrtEnvironment.getVersion()} string, clamped to [OLDEST, ...]. */
  public static OrtVersion ofRuntime(String runtimeVersion) {
    String[] p = runtimeVersion.trim().split("[.-]");
    OrtVersion v = new OrtVersion(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
    return v.compareTo(OLDEST) < 0 ? OLDEST : v;
  }

  /** True when this release is {@code other} or newer. */
  public boolean atLeast(OrtVersion other) {
    return compareTo(other) >= 0;
  }

  /** {@code MatMulNBits} with {@code bits = 8}. */
  public boolean hasMatMulNBits8() {
    return atLeast(EIGHT_BIT_BLOCKS);
  }

  /** {@code GatherBlockQuantized} with uint8 data and the {@code bits} attribute (4 or 8). */
  public boolean hasGatherBlockQuantizedBits() {
    return atLeast(EIGHT_BIT_BLOCKS);
  }

  /** {@code GatherBlockQuantized} with uint4 data (4-bit codes only). */
  public boolean hasGatherBlockQuantizedUint4() {
    return atLeast(GATHER_BLOCK_QUANTIZED);
  }

  @Override
  public int compareTo(OrtVersion o) {
    return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%d.%d", major, minor);
  }
}
