package dev.selfbyt.cortexsdr.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Codes of every width from 1 to 8 bits, of counts that are and are not whole groups of eight,
 * packed and read back by {@link PackedCodes#unpack}, {@link PackedCodes#unpackScaled} and {@link
 * PackedCodes#get}, from a run that does not start at byte 0.
 */
class PackedCodesTest {
  @Test
  void everyWidthAndCountRoundTrips() {
    Random rnd = new Random(5);
    for (int bits = 1; bits <= 8; bits++) {
      for (int n : new int[] {0, 1, 7, 8, 9, 16, 23, 64, 385}) {
        byte[] codes = new byte[n];
        for (int i = 0; i < n; i++) {
          codes[i] = (byte) rnd.nextInt(1 << bits);
        }
        int off = 3;
        byte[] packed = new byte[off + (int) PackedCodes.bytes(n, bits)];
        PackedCodes.pack(codes, 0, n, bits, packed, off);
        byte[] back = new byte[n + 2];
        PackedCodes.unpack(packed, off, n, bits, back, 2);
        byte[] got = new byte[n];
        System.arraycopy(back, 2, got, 0, n);
        assertArrayEquals(codes, got, bits + " bits, " + n + " codes");
        float[] scaled = new float[n + 1];
        PackedCodes.unpackScaled(packed, off, n, bits, 3f, 0.25f, scaled, 1);
        for (int i = 0; i < n; i++) {
          assertEquals(codes[i] & 0xff, PackedCodes.get(packed, off, i, bits), bits + " bits, code " + i);
          assertEquals(((codes[i] & 0xff) - 3f) * 0.25f, scaled[1 + i], 0f, bits + " bits, scaled code " + i);
        }
      }
    }
  }
}
