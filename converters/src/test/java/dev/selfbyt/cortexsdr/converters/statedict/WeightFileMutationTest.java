package dev.selfbyt.cortexsdr.converters.statedict;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsReader;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random damage to a valid safetensors file and a valid state dict (bytes flipped, lengths
 * replaced by extreme values, the file cut): every damaged file either reads, every tensor with
 * its declared size, or is refused with a {@link CaiException} naming the file; never another
 * exception, never a tensor of the wrong size. (Coverage-guided fuzzing of the ONNX reader lives in
 * the integration tests; this is its cheap cousin for the weight readers.)
 */
class WeightFileMutationTest {
  private static final int ROUNDS = 800;
  @TempDir Path dir;

  interface Opener {
    TensorSource open(Path p) throws IOException;
  }

  private void mutate(byte[] valid, String name, Opener opener) throws IOException {
    Random r = new Random(42);
    Path p = dir.resolve(name);
    int refused = 0;
    for (int round = 0; round < ROUNDS; round++) {
      byte[] b = valid.clone();
      switch (r.nextInt(4)) {
        case 0 -> {
          for (int k = 1 + r.nextInt(4); k > 0; k--) {
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
          }
        }
        case 1 -> {
          long[] extreme = {0, 1, -1, Long.MAX_VALUE, Integer.MAX_VALUE, 0xffffffffL, 1L << 40, b.length};
          int at = r.nextInt(b.length - 8);
          ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) extreme[r.nextInt(extreme.length)]);
        }
        case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length));
        default -> { // a digit of the header or pickle changed: sizes, offsets, shapes
          for (int k = 0; k < b.length; k++) {
            int at = r.nextInt(b.length);
            if (b[at] >= '0' && b[at] <= '9') {
              b[at] = (byte) ('0' + r.nextInt(10));
              break;
            }
          }
        }
      }
      Files.write(p, b);
      try (TensorSource s = opener.open(p)) {
        s.graph();
        for (TensorInfo t : s.tensors()) {
          try {
            long n = s.read(t).bytes().remaining();
            if (n != t.byteSize()) {
              fail("round " + round + ": " + t + " read " + n + " bytes");
            }
          } catch (CaiException named) {
            assertTrue(named.getMessage().startsWith(p.toString()), named.getMessage());
          }
        }
      } catch (CaiException named) {
        refused++;
        assertTrue(named.getMessage().startsWith(p.toString()), named.getMessage());
      } catch (RuntimeException | IOException other) {
        throw new AssertionError("round " + round + " of " + name + ": " + other, other);
      }
    }
    assertTrue(refused > ROUNDS / 10, "the damage is noticed: " + refused + " refused of " + ROUNDS);
  }

  @Test
  void damagedSafetensorsAreReadOrRefusedByName() throws IOException {
    String header = "{\"__metadata__\":{\"format\":\"pt\"},\"a.weight\":{\"dtype\":\"F32\",\"shape\":[4,8],"
        + "\"data_offsets\":[0,128]},\"a.bias\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[128,136]},"
        + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[136,144]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + 144).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    mutate(b.array(), "m.safetensors", SafetensorsReader::open);
  }

  @Test
  void damagedStateDictsAreReadOrRefusedByName() throws IOException {
    byte[] valid = TorchFiles.stateDict(TorchFiles.statePickle("fc.weight", "0", 32, new long[] {4, 8},
        new long[] {8, 1}), 32);
    mutate(valid, "m.pt", StateDictReader::open);
  }
}
