package dev.selfbyt.cortexsdr.converters.torchzip;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Python globals a pickle may name, given by the reader that reads it: exact names ({@code
 * collections.OrderedDict}) or prefixes ending in {@code *} ({@code __torch__.*}), the classes whose
 * objects {@code NEWOBJ} may make (TorchScript's module classes; none for a state dict), and the
 * sentence that tells the user what such a file may name. A name here is never imported or called:
 * {@link RestrictedUnpickler} interprets the few it knows in Java and refuses the rest.
 *
 * <pre>{@code
 * PickleGlobals g = PickleGlobals.of("A state dict may name only ...", List.of("collections.OrderedDict"));
 * }</pre>
 */
public final class PickleGlobals {
  /** torch's storage types ({@code torch.FloatStorage}: the name after {@code torch.}) and the element type each holds. */
  public static final Map<String, DType> TORCH_STORAGES;

  static {
    Map<String, DType> s = new LinkedHashMap<>();
    s.put("FloatStorage", DType.FLOAT32);
    s.put("DoubleStorage", DType.FLOAT64);
    s.put("HalfStorage", DType.FLOAT16);
    s.put("BFloat16Storage", DType.BFLOAT16);
    s.put("LongStorage", DType.INT64);
    s.put("IntStorage", DType.INT32);
    s.put("ShortStorage", DType.INT16);
    s.put("CharStorage", DType.INT8);
    s.put("ByteStorage", DType.UINT8);
    s.put("BoolStorage", DType.BOOL);
    s.put("ComplexFloatStorage", DType.COMPLEX64);
    s.put("ComplexDoubleStorage", DType.COMPLEX128);
    s.put("Float8_e4m3fnStorage", DType.FLOAT8E4M3FN);
    s.put("Float8_e5m2Storage", DType.FLOAT8E5M2);
    s.put("Float8_e4m3fnuzStorage", DType.FLOAT8E4M3FNUZ);
    s.put("Float8_e5m2fnuzStorage", DType.FLOAT8E5M2FNUZ);
    s.put("UInt16Storage", DType.UINT16);
    s.put("UInt32Storage", DType.UINT32);
    s.put("UInt64Storage", DType.UINT64);
    s.put("UntypedStorage", DType.UINT8);
    TORCH_STORAGES = Collections.unmodifiableMap(s);
  }

  private final String refusal;
  private final List<String> names;
  private final List<String> classes;

  private PickleGlobals(String refusal, List<String> names, List<String> classes) {
    this.refusal = refusal;
    this.names = List.copyOf(names);
    this.classes = List.copyOf(classes);
  }

  /**
   * Globals {@code names} (exact, or a prefix ending in {@code *}); {@code refusal} is said after a
   * refused name: what the file may name, and what to do.
   */
  public static PickleGlobals of(String refusal, List<String> names) {
    return new PickleGlobals(refusal, names, List.of());
  }

  /** The full names of torch's storage types, {@code torch.FloatStorage} and the rest. */
  public static List<String> torchStorages() {
    List<String> out = new ArrayList<>();
    for (String s : TORCH_STORAGES.keySet()) {
      out.add("torch." + s);
    }
    return out;
  }

  /**
   * These globals and also objects of the classes {@code patterns} match (exact, or a prefix ending
   * in {@code *}): {@code NEWOBJ} makes them without arguments and {@code BUILD} gives them their
   * attributes.
   */
  public PickleGlobals withObjectsOf(String... patterns) {
    return new PickleGlobals(refusal, names, List.of(patterns));
  }

  /** Whether a pickle may name {@code module.name}. */
  public boolean allows(String module, String name) {
    String full = module + "." + name;
    return matches(names, full) || matches(classes, full);
  }

  /** Whether objects of the class {@code module.name} may be made. */
  public boolean makesObjectsOf(String module, String name) {
    return matches(classes, module + "." + name);
  }

  /** What a file read with these globals may name, said when another is refused. */
  public String refusal() {
    return refusal;
  }

  private static boolean matches(List<String> patterns, String full) {
    for (String p : patterns) {
      if (p.endsWith("*") ? full.startsWith(p.substring(0, p.length() - 1)) : full.equals(p)) {
        return true;
      }
    }
    return false;
  }
}
