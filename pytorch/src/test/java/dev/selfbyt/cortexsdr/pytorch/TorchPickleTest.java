package dev.selfbyt.cortexsdr.pytorch;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The restricted unpickler refuses what TorchScript never writes, before anything could run. */
class TorchPickleTest {
  private static byte[] pickle(String module, String name) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x80);
    b.write(2);
    b.writeBytes(("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    b.writeBytes(new byte[] {'X', 4, 0, 0, 0});
    b.writeBytes("true".getBytes(StandardCharsets.UTF_8));
    b.write(0x85); // TUPLE1
    b.write('R'); // REDUCE: os.system("true") in a real unpickler
    b.write('.');
    return b.toByteArray();
  }

  @Test
  void globalsOutsideTorchScriptAreRefused() {
    for (String[] g : new String[][] {{"os", "system"}, {"builtins", "eval"}, {"torch", "load"},
        {"torch._utils", "_rebuild_parameter_with_state"}, {"subprocess", "Popen"}}) {
      TorchScriptFormatException e = assertThrows(TorchScriptFormatException.class,
          () -> TorchScriptReader.unpickle("evil.pt", "data.pkl", pickle(g[0], g[1])));
      assertTrue(e.getMessage().contains(g[0] + "." + g[1]) && e.getMessage().contains("nothing was run"), e.getMessage());
    }
  }

  @Test
  void truncatedPickleIsNamed() {
    byte[] p = pickle("collections", "OrderedDict");
    TorchScriptFormatException e = assertThrows(TorchScriptFormatException.class,
        () -> TorchScriptReader.unpickle("cut.pt", "data.pkl", java.util.Arrays.copyOf(p, 10)));
    assertTrue(e.getMessage().startsWith("cut.pt: data.pkl"), e.getMessage());
  }
}
