package dev.selfbyt.cortexsdr.converters.torchzip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.ModuleObject;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.Tuple;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one pickle machine: the caller's globals decide what a pickle may name and which objects it may make. */
class RestrictedUnpicklerTest {
  private static final PickleGlobals NONE_ALLOWED = PickleGlobals.of("Nothing may be named here.", List.of());
  private static final PickleGlobals MODULES = PickleGlobals.of("Only modules.", List.of("torch.jit._pickle.build_*"))
      .withObjectsOf("__torch__.*");

  /** Protocol 2, then opcodes (chars), bytes (ints) and text, then STOP. */
  private static byte[] pickle(Object... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x80);
    b.write(2);
    for (Object p : parts) {
      if (p instanceof String s) {
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      } else if (p instanceof Character c) {
        b.write(c);
      } else {
        b.write((Integer) p);
      }
    }
    b.write('.');
    return b.toByteArray();
  }

  @Test
  void noneInsideATupleIsNull() throws PickleException {
    Tuple t = (Tuple) RestrictedUnpickler.read(pickle('N', 0x85), NONE_ALLOWED);
    assertEquals(Arrays.asList((Object) null), t.items());
  }

  @Test
  void stackAndMemoAbuseIsNamedNotCrashed() {
    for (byte[] p : List.of(pickle('2'), pickle('0'), pickle('a'), pickle(0x94), pickle('(', 'l', 'h', 0, '.'))) {
      PickleException e = assertThrows(PickleException.class, () -> RestrictedUnpickler.read(p, NONE_ALLOWED));
      assertTrue(e.getMessage().contains("byte") || e.getMessage().contains("truncated"), e.getMessage());
    }
  }

  @Test
  void objectsOnlyOfTheClassesTheCallerAllows() throws PickleException {
    byte[] module = pickle("c__torch__.Net\nNet\n", ')', 0x81, '}', "X\u0001\u0000\u0000\u0000w", 'K', 7, 's', 'b');
    ModuleObject m = (ModuleObject) RestrictedUnpickler.read(module, MODULES);
    assertEquals("__torch__.Net.Net", m.className());
    assertEquals(7L, m.attributes().get("w"));

    PickleException refused = assertThrows(PickleException.class, () -> RestrictedUnpickler.read(module, NONE_ALLOWED));
    assertTrue(refused.getMessage().contains("'__torch__.Net.Net' (byte 2): refused; nothing was run. Nothing may be "
        + "named here."), refused.getMessage());

    byte[] builtin = pickle("cbuiltins\nobject\n", ')', 0x81);
    assertTrue(assertThrows(PickleException.class, () -> RestrictedUnpickler.read(builtin, MODULES)).getMessage()
        .contains("builtins.object"));
  }

  @Test
  void torchScriptListBuildersGiveTheirValue() throws PickleException {
    Object v = RestrictedUnpickler.read(pickle("ctorch.jit._pickle\nbuild_intlist\n", ']', 'K', 3, 'a', 0x85, 'R'),
        MODULES);
    assertEquals(List.of(3L), v);
  }
}
