package dev.selfbyt.cortexsdr.converters.statedict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.TensorRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the restricted unpickler builds from a state dict's pickle, and what it refuses. */
class RestrictedUnpicklerTest {
  @TempDir Path dir;

  @Test
  void aStateDictPickleGivesItsTensors() throws StateDictFormatException {
    Object top = StateDictReader.unpickle("t", TorchFiles.statePickle("fc.weight", "0", 12, new long[] {3, 4},
        new long[] {4, 1}));
    TensorRef t = (TensorRef) ((Map<?, ?>) top).get("fc.weight");
    assertEquals("0", t.storage().key());
    assertEquals(12, t.storage().numel());
    assertEquals(4, t.stride()[0]);
  }

  private static String refused(int... pickle) {
    byte[] b = new byte[pickle.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) pickle[i];
    }
    return assertThrows(StateDictFormatException.class, () -> StateDictReader.unpickle("f.pt", b)).getMessage();
  }

  @Test
  void objectBuildingOpcodesAndNewerProtocolsAreRefused() {
    assertTrue(refused(0x80, 6, '.').contains("pickle protocol 6"));
    assertTrue(refused(0x80, 2, 'i', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.').contains("INST"));
    assertTrue(refused(0x80, 2, 0x82, 1, '.').contains("extension registry"));
    assertTrue(refused(0x80, 2, ']', ']', '}', 's', '.').contains("dict key of type ArrayList"));
    assertTrue(refused(0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, '.').contains("only 1 remain"));
    assertTrue(refused(0x80, 2, 'h', 5, '.').contains("memo key 5 used before it was set"));
  }

  @Test
  void aListThatHoldsItselfIsRefusedNotWalkedForever() throws IOException {
    // [] memoized as 0, then appended to itself: a cycle, which Python's pickle can express
    byte[] cycle = {(byte) 0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'};
    Map<String, byte[]> records = new java.util.LinkedHashMap<>();
    records.put("archive/data.pkl", cycle);
    Path p = dir.resolve("cycle.pt");
    Files.write(p, TorchFiles.zip(records));
    StateDictFormatException e = assertThrows(StateDictFormatException.class, () -> StateDictReader.open(p));
    assertTrue(e.getMessage().contains("nested deeper than 64 (or a cycle)"), e.getMessage());
  }
}
