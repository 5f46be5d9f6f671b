package dev.selfbyt.cortexsdr.djl.kernel;

import dev.selfbyt.cortexsdr.core.codec.PackedCodes;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import java.nio.ByteBuffer;

/**
 * A block-quantized weight kept as stored: {@link #rows()} fibers of {@link #cols()} packed codes
 * (2 to 8 bits, LSB first), a scale and a zero point per group of {@code groupLength} codes. Get
 * one with {@link #of(QuantCodec.QuantizedTensor)} from {@code QuantCodec.unpack}; rows decode to
 * floats exactly as {@code QuantCodec.decode} does ({@code (q - z) * s}). Immutable.
 */
public final class QuantMatrix implements WeightRows {
  private final int rows;
  private final int cols;
  private final int bits;
  private final byte[] packed;
  private final int rowBytes;
  private final float[] scales;
  /** Zero points as unsigned bytes (codes have at most 8 bits); null when all are {@link #commonZero}. */
  private final byte[] zeroPoints;
  private final float commonZero;
  private final int groupLength;
  private final int groupsPerRow;
  private final boolean perTensor;
  /**
   * Column-panel layout ({@link #inPanels()}): the rows (matrix columns) in panels of {@value
   * #PANEL}, each panel stored element-major: for every element {@code k}, the panel's {@value
   * #PANEL} codes side by side (8-bit: one byte each; 4-bit: 16 bytes, the low nibble of byte
   * {@code j} for row {@code j}, the high nibble for row {@code j + 16}). Scales and zero points
   * likewise {@code [panel][group][PANEL]}. Null in the row layout, where {@link #packed} holds
   * the codes.
   */
  private final byte[] panelCodes;
  private final float[] panelScales;
  private final byte[] panelZeros;
  /** Rows of a panel in the column-panel layout. */
  public static final int PANEL = 32;
  /**
   * The int8-activation form ({@link #withInt8Activations}): when set, the weight's only codes
   * (the other layouts are null) and {@link MatMul} computes with int8 activations.
   */
  private final Int8Panels int8;

  private QuantMatrix(Int8Panels w) {
    this.rows = w.rows();
    this.cols = w.cols();
    this.bits = 8;
    this.packed = null;
    this.rowBytes = 0;
    this.scales = null;
    this.zeroPoints = null;
    this.commonZero = 0;
    this.groupLength = w.cols();
    this.groupsPerRow = 1;
    this.perTensor = false;
    this.panelCodes = null;
    this.panelScales = null;
    this.panelZeros = null;
    this.int8 = w;
  }

  /**
   * A weight that computes with int8 activations (ONNX Runtime's {@code DynamicQuantizeLinear +
   * MatMulInteger} arithmetic), from a tensor stored with 8-bit symmetric per-channel codes; see
   * {@link Int8Panels#of}. Rows still decode to the same floats.
   */
  public static QuantMatrix withInt8Activations(QuantCodec.QuantizedTensor q) {
    return new QuantMatrix(Int8Panels.of(q));
  }

  /** The int8-activation form, or null when this weight computes with float activations. */
  public Int8Panels int8Activations() {
    return int8;
  }

  private QuantMatrix(QuantMatrix m, byte[] panelCodes, float[] panelScales, byte[] panelZeros) {
    this.rows = m.rows;
    this.cols = m.cols;
    this.bits = m.bits;
    this.packed = null;
    this.rowBytes = m.rowBytes;
    this.scales = null;
    this.zeroPoints = null;
    this.commonZero = m.commonZero;
    this.groupLength = m.groupLength;
    this.groupsPerRow = m.groupsPerRow;
    this.perTensor = m.perTensor;
    this.panelCodes = panelCodes;
    this.panelScales = panelScales;
    this.panelZeros = panelZeros;
    this.int8 = null;
  }

  private QuantMatrix(QuantCodec.QuantizedTensor q) {
    this.rows = q.fibers();
    this.cols = q.fiberLength();
    this.bits = q.codec().bits();
    ByteBuffer codes = q.packedCodes();
    this.packed = new byte[codes.remaining()];
    codes.duplicate().get(packed);
    this.rowBytes = q.fiberBytes();
    this.scales = q.scales();
    int[] z = q.zeroPoints();
    boolean same = true;
    for (int v : z) {
      same &= v == z[0];
    }
    this.commonZero = z.length == 0 ? 0 : z[0];
    if (same) {
      this.zeroPoints = null; // symmetric codecs: one zero point for all groups
    } else {
      this.zeroPoints = new byte[z.length];
      for (int i = 0; i < z.length; i++) {
        zeroPoints[i] = (byte) z[i];
      }
    }
    this.perTensor = q.codec().granularity() == QuantCodec.Granularity.TENSOR;
    this.groupLength = Math.max(1, q.groupLength());
    this.groupsPerRow = perTensor ? 1 : (cols + groupLength - 1) / groupLength;
    this.panelCodes = null;
    this.panelScales = null;
    this.panelZeros = null;
    this.int8 = null;
  }

  /** True in the column-panel layout, where {@link MatMul} decodes whole panels with vector code. */
  public boolean isPanels() {
    return panelCodes != null;
  }

  /** Panels in the column-panel layout. */
  int panels() {
    return (rows + PANEL - 1) / PANEL;
  }

  /**
   * The same weight in the column-panel layout, for 8- and 4-bit codes (the same bytes reordered,
   * so memory stays the same up to padding the last panel); other widths, or a matrix already in
   * panels, are returned as they are. Meant for MatMul weights {@code [K, N]}, whose rows here are
   * the {@code N} columns: {@link MatMul} then decodes {@value #PANEL} columns at a time with
   * contiguous vector loads and stores.
   */
  public QuantMatrix inPanels() {
    if (isPanels() || int8 != null || (bits != 8 && bits != 4)) {
      return this;
    }
    int panels = panels();
    int perK = bits == 8 ? PANEL : PANEL / 2;
    byte[] codes = new byte[Math.multiplyExact(panels, cols * perK)];
    float[] ps = new float[panels * groupsPerRow * PANEL];
    byte[] pz = zeroPoints == null ? null : new byte[ps.length];
    for (int r = 0; r < rows; r++) {
      int t = r / PANEL;
      int j = r % PANEL;
      int base = r * rowBytes;
      for (int i = 0; i < cols; i++) {
        int code = bits == 8 ? packed[base + i] & 0xff : (packed[base + (i >> 1)] >> ((i & 1) << 2)) & 0xf;
        int at = (t * cols + i) * perK;
        if (bits == 8) {
          codes[at + j] = (byte) code;
        } else if (j < PANEL / 2) {
          codes[at + j] |= (byte) code;
        } else {
          codes[at + j - PANEL / 2] |= (byte) (code << 4);
        }
      }
      for (int g = 0; g < groupsPerRow; g++) {
        int gi = perTensor ? 0 : r * groupsPerRow + g;
        ps[(t * groupsPerRow + g) * PANEL + j] = scales[gi];
        if (pz != null) {
          pz[(t * groupsPerRow + g) * PANEL + j] = zeroPoints[gi];
        }
      }
    }
    // padding rows of the last panel: scale 0, so they decode to 0 whatever their codes
    return new QuantMatrix(this, codes, ps, pz);
  }

  /**
   * Decodes panel {@code t} into {@code panel[k * PANEL + j]} (all {@code cols} elements of its
   * {@value #PANEL} rows; padding rows decode to 0) with {@code kern}'s vector code.
   */
  void decodePanelTile(Kernels kern, int t, float[] panel, float[] scale, float[] bias) {
    int perK = bits == 8 ? PANEL : PANEL / 2;
    float offset = bits == 8 ? 128f : 0f; // 8-bit codes are read as q - 128
    for (int g = 0; g < groupsPerRow; g++) {
      int start = perTensor ? 0 : g * groupLength;
      int end = perTensor ? cols : Math.min(cols, start + groupLength);
      int so = (t * groupsPerRow + g) * PANEL;
      for (int j = 0; j < PANEL; j++) {
        float s = panelScales[so + j];
        float z = panelZeros == null ? commonZero : panelZeros[so + j] & 0xff;
        scale[j] = s;
        bias[j] = (offset - z) * s;
      }
      kern.decodePanel(panelCodes, (t * cols + start) * perK, bits, end - start, scale, bias, panel, start * PANEL);
    }
  }

  /**
   * Whether C2 auto-vectorizes the byte-to-float conversion of {@link #decodePanelTileInto}: JDK 25
   * does (measured 0.11 ns per 8-bit code), JDK 17 does not (0.73 ns per code as a conversion,
   * 0.45 through {@link #CODE_FLOAT}; 4-bit 0.57 and 0.44 through {@link #NIBBLE_FLOAT}; one thread,
   * load average 5). C2 learned conversions between sizes in JDK 20, so the LTS releases from 21
   * take the conversion form (not measured here: only JDK 17 and 25 were at hand).
   */
  static final boolean CONVERSIONS_VECTORIZE = Runtime.version().feature() >= 21;
  /** The float of every 8-bit code read as {@code q - 128}: a load instead of a scalar conversion. */
  private static final float[] CODE_FLOAT = new float[256];
  /** Both nibbles of every byte as floats, low then high: {@code [2 * b]}, {@code [2 * b + 1]}. */
  private static final float[] NIBBLE_FLOAT = new float[512];

  static {
    for (int b = 0; b < 256; b++) {
      CODE_FLOAT[b] = (byte) (b ^ 0x80);
      NIBBLE_FLOAT[2 * b] = b & 0xf;
      NIBBLE_FLOAT[2 * b + 1] = (b >> 4) & 0xf;
    }
  }

  /**
   * Decodes panel {@code t} straight into the scalar kernels' tile: element {@code kk} of its row
   * {@code j} goes to {@code rows[kk][c + j]} for all {@value #PANEL} rows (padding rows decode to
   * 0), so {@code rows[kk]} must hold {@code c + PANEL} values. {@code scale} and {@code bias} are
   * scratch of {@value #PANEL}.
   */
  void decodePanelTileInto(int t, float[][] rows, int c, float[] scale, float[] bias) {
    int p = PANEL;
    int h = p / 2;
    int perK = bits == 8 ? p : h;
    float offset = bits == 8 ? 128f : 0f; // 8-bit codes are read as q - 128
    for (int g = 0; g < groupsPerRow; g++) {
      int start = perTensor ? 0 : g * groupLength;
      int end = perTensor ? cols : Math.min(cols, start + groupLength);
      int so = (t * groupsPerRow + g) * p;
      for (int j = 0; j < p; j++) {
        float sc = panelScales[so + j];
        float z = panelZeros == null ? commonZero : panelZeros[so + j] & 0xff;
        scale[j] = sc;
        bias[j] = (offset - z) * sc;
      }
      for (int kk = start; kk < end; kk++) {
        float[] row = rows[kk];
        int o = (t * cols + kk) * perK;
        if (bits == 8 && !CONVERSIONS_VECTORIZE) {
          for (int j = 0; j < p; j++) {
            row[c + j] = CODE_FLOAT[panelCodes[o + j] & 0xff] * scale[j] + bias[j];
          }
        } else if (bits == 8) {
          for (int j = 0; j < p; j++) {
            row[c + j] = (byte) (panelCodes[o + j] ^ 0x80) * scale[j] + bias[j];
          }
        } else if (!CONVERSIONS_VECTORIZE) {
          for (int j = 0; j < h; j++) {
            int b = (panelCodes[o + j] & 0xff) << 1;
            row[c + j] = NIBBLE_FLOAT[b] * scale[j] + bias[j];
            row[c + j + h] = NIBBLE_FLOAT[b + 1] * scale[j + h] + bias[j + h];
          }
        } else {
          for (int j = 0; j < h; j++) {
            int b = panelCodes[o + j];
            row[c + j] = (b & 0xf) * scale[j] + bias[j];
            row[c + j + h] = ((b >> 4) & 0xf) * scale[j + h] + bias[j + h];
          }
        }
      }
    }
  }

  /**
   * {@code y = x * W + bias} for the columns of panels {@code t0 .. t1-1}, each decoded into {@code
   * buf} and multiplied in one native call ({@link NativeKernels#gemmQuant}); column-panel layout only.
   */
  void multiplyPanels(NativeKernels nk, float[] x, int xOff, int m, int t0, int t1, float[] bias, float[] y, int yOff,
      float[] buf) {
    nk.gemmQuant(x, xOff, m, cols, panelCodes, bits, panelScales, panelZeros, commonZero,
        perTensor ? cols : groupLength, groupsPerRow, t0, t1, rows, y, yOff, rows, bias, buf);
  }

  /** Wraps a parsed quantized tensor (copies its packed codes, decodes nothing). */
  public static QuantMatrix of(QuantCodec.QuantizedTensor q) {
    return new QuantMatrix(q);
  }

  @Override
  public int rows() {
    return rows;
  }

  @Override
  public int cols() {
    return cols;
  }

  public int bits() {
    return bits;
  }

  @Override
  public long residentBytes() {
    if (int8 != null) {
      return int8.residentBytes();
    }
    if (isPanels()) {
      return panelCodes.length + 4L * panelScales.length + (panelZeros == null ? 0 : panelZeros.length);
    }
    return packed.length + 4L * scales.length + (zeroPoints == null ? 0 : zeroPoints.length);
  }

  @Override
  public void decodeRows(int r0, int r1, float[] dst) {
    for (int r = r0; r < r1; r++) {
      decodeRow(r, dst, (r - r0) * cols);
    }
  }

  /**
   * Decodes rows {@code [r0, r0 + nb)} of the row layout straight into a {@code [cols, ld]} panel:
   * element {@code i} of row {@code r0 + j} goes to {@code panel[i * ld + j]}.
   */
  void decodePanel(int r0, int nb, float[] panel, int ld) {
    if (int8 != null) {
      throw new IllegalStateException("decodePanel reads the row layout; an int8-activation weight has its own product");
    }
    if (isPanels()) {
      throw new IllegalStateException("decodePanel reads the row layout; a matrix in panels has decodePanelTile");
    }
    for (int j = 0; j < nb; j++) {
      int r = r0 + j;
      int base = r * rowBytes;
      for (int g = 0; g < groupsPerRow; g++) {
        int gi = perTensor ? 0 : r * groupsPerRow + g;
        float s = scales[gi];
        float z = zeroPoints == null ? commonZero : zeroPoints[gi] & 0xff;
        int start = perTensor ? 0 : g * groupLength;
        int end = perTensor ? cols : Math.min(cols, start + groupLength);
        if (bits == 8) {
          for (int i = start; i < end; i++) {
            panel[i * ld + j] = ((packed[base + i] & 0xff) - z) * s;
          }
        } else if (bits == 4) {
          for (int i = start; i < end; i++) {
            panel[i * ld + j] = (((packed[base + (i >> 1)] >> ((i & 1) << 2)) & 0xf) - z) * s;
          }
        } else {
          for (int i = start; i < end; i++) {
            panel[i * ld + j] = (PackedCodes.get(packed, base, i, bits) - z) * s;
          }
        }
      }
    }
  }

  /**
   * {@code y[yOff + i*rows + r] = x_i . row(r)} for {@code i < m}, {@code r} in {@code [r0, r1)},
   * straight from the codes: per group, {@code s * (sum x q - z * sum x)} with the sums of {@code x}
   * over each group taken once per row of {@code x}. Used when {@code x} has too few rows to pay
   * for decoding the weight.
   */
  void multiplyRows(Kernels kern, float[] x, int xOff, int m, int r0, int r1, float[] y, int yOff, Prepared[] px) {
    for (int i = 0; i < m; i++) {
      Prepared p = px[i];
      int yr = yOff + i * rows;
      for (int r = r0; r < r1; r++) {
        if (!fusable()) {
          decodeRow(r, p.scratch, 0);
          y[yr + r] = kern.dot(x, xOff + i * cols, p.scratch, 0, cols);
          continue;
        }
        int base = r * rowBytes;
        double acc = 0;
        for (int j = 0; j < groupsPerRow; j++) {
          int g = perTensor ? 0 : r * groupsPerRow + j;
          int start = perTensor ? 0 : j * groupLength;
          int end = perTensor ? cols : Math.min(cols, start + groupLength);
          float z = zeroPoints == null ? commonZero : zeroPoints[g] & 0xff;
          float dot;
          if (bits == 8) {
            // codes as q - 128: sum x q = sum x (q - 128) + 128 sum x
            dot = kern.dotS8(x, xOff + i * cols + start, packed, base + start, end - start)
                + (128f - z) * p.groupSums[j];
          } else {
            dot = kern.dotU4(p.even, p.odd, start >> 1, packed, base + (start >> 1), (end - start) >> 1)
                - z * p.groupSums[j];
          }
          acc += scales[g] * dot;
        }
        y[yr + r] = (float) acc;
      }
    }
  }

  /** 8-bit codes, or 4-bit codes whose groups start and end on whole bytes. */
  private boolean fusable() {
    return bits == 8 || (bits == 4 && cols % 2 == 0 && (perTensor || groupLength % 2 == 0));
  }

  /** One row of {@code x} made ready for {@link #multiplyRows}: group sums, even and odd halves. */
  static final class Prepared {
    final float[] groupSums;
    final float[] even;
    final float[] odd;
    final float[] scratch;

    Prepared(float[] groupSums, float[] even, float[] odd, float[] scratch) {
      this.groupSums = groupSums;
      this.even = even;
      this.odd = odd;
      this.scratch = scratch;
    }
  }

  Prepared prepare(float[] x, int off) {
    float[] sums = new float[groupsPerRow];
    for (int j = 0; j < groupsPerRow; j++) {
      int start = perTensor ? 0 : j * groupLength;
      int end = perTensor ? cols : Math.min(cols, start + groupLength);
      float s = 0;
      for (int k = start; k < end; k++) {
        s += x[off + k];
      }
      sums[j] = s;
    }
    float[] even = null;
    float[] odd = null;
    if (bits == 4) {
      even = new float[(cols + 1) / 2];
      odd = new float[(cols + 1) / 2];
      for (int k = 0; k < cols; k++) {
        if ((k & 1) == 0) {
          even[k >> 1] = x[off + k];
        } else {
          odd[k >> 1] = x[off + k];
        }
      }
    }
    return new Prepared(sums, even, odd, fusable() ? null : new float[cols]);
  }

  /** Decodes rows {@code [r0, r1)} one after the other into {@code dst}, 8-bit groups with {@code kern}. */
  void decodeRows(Kernels kern, int r0, int r1, float[] dst) {
    if (bits != 8 || isPanels() || int8 != null) {
      decodeRows(r0, r1, dst);
      return;
    }
    for (int r = r0; r < r1; r++) {
      int base = r * rowBytes;
      int off = (r - r0) * cols;
      for (int j = 0; j < groupsPerRow; j++) {
        int g = perTensor ? 0 : r * groupsPerRow + j;
        int start = perTensor ? 0 : j * groupLength;
        int end = perTensor ? cols : Math.min(cols, start + groupLength);
        float z = zeroPoints == null ? commonZero : zeroPoints[g] & 0xff;
        kern.dequant8(packed, base + start, end - start, scales[g], z, dst, off + start);
      }
    }
  }

  /** Decodes row {@code r} into {@code dst[off .. off + cols)}. */
  public void decodeRow(int r, float[] dst, int off) {
    if (int8 != null) {
      int8.decodeRow(r, dst, off);
      return;
    }
    if (isPanels()) {
      decodePanelRow(r, dst, off);
      return;
    }
    int base = r * rowBytes;
    for (int j = 0; j < groupsPerRow; j++) {
      int g = perTensor ? 0 : r * groupsPerRow + j;
      float s = scales[g];
      float z = zeroPoints == null ? commonZero : zeroPoints[g] & 0xff;
      int start = perTensor ? 0 : j * groupLength;
      int end = perTensor ? cols : Math.min(cols, start + groupLength);
      switch (bits) {
        case 8 -> {
          for (int i = start; i < end; i++) {
            dst[off + i] = ((packed[base + i] & 0xff) - z) * s;
          }
        }
        case 4 -> decode4(base, start, end, s, z, dst, off);
        default -> decodeBits(base, start, end, s, z, dst, off);
      }
    }
  }

  private void decodePanelRow(int r, float[] dst, int off) {
    int t = r / PANEL;
    int j = r % PANEL;
    for (int i = 0; i < cols; i++) {
      int code;
      if (bits == 8) {
        code = panelCodes[(t * cols + i) * PANEL + j] & 0xff;
      } else {
        int b = panelCodes[(t * cols + i) * (PANEL / 2) + (j % (PANEL / 2))];
        code = j < PANEL / 2 ? b & 0xf : (b >> 4) & 0xf;
      }
      int so = (t * groupsPerRow + (perTensor ? 0 : i / groupLength)) * PANEL + j;
      float z = panelZeros == null ? commonZero : panelZeros[so] & 0xff;
      dst[off + i] = (code - z) * panelScales[so];
    }
  }

  private void decode4(int base, int start, int end, float s, float z, float[] dst, int off) {
    int i = start;
    if ((i & 1) != 0 && i < end) {
      dst[off + i] = (((packed[base + (i >> 1)] >> 4) & 0xf) - z) * s;
      i++;
    }
    for (; i + 1 < end; i += 2) {
      int b = packed[base + (i >> 1)];
      dst[off + i] = ((b & 0xf) - z) * s;
      dst[off + i + 1] = (((b >> 4) & 0xf) - z) * s;
    }
    if (i < end) {
      dst[off + i] = ((packed[base + (i >> 1)] & 0xf) - z) * s;
    }
  }

  /**
   * Codes of widths other than 4 and 8: a run that starts on a byte is decoded by {@link
   * PackedCodes#unpackScaled} (eight codes per word read); an unaligned start code by code.
   */
  private void decodeBits(int base, int start, int end, float s, float z, float[] dst, int off) {
    if (((long) start * bits & 7) != 0) {
      for (int i = start; i < end; i++) {
        dst[off + i] = (PackedCodes.get(packed, base, i, bits) - z) * s;
      }
      return;
    }
    PackedCodes.unpackScaled(packed, base + (int) ((long) start * bits >>> 3), end - start, bits, z, s, dst,
        off + start);
  }


}
