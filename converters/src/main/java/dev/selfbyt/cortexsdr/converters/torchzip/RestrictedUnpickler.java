package dev.selfbyt.cortexsdr.converters.torchzip;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a pickle written by PyTorch ({@code data.pkl} of a {@code torch.save} file or of a
 * TorchScript archive) without running anything. A pickle is a program for a stack machine whose
 * {@code GLOBAL} opcode imports any Python callable and whose {@code REDUCE} calls it: loading an
 * untrusted {@code .pt} with Python's unpickler runs whatever it names ({@code os.system}, {@code
 * builtins.eval}). This machine implements the opcodes of protocols 2 to 5 that build plain values
 * and accepts only the globals its caller allows ({@link PickleGlobals}); the ones torch writes are
 * interpreted here, in Java, by what they mean: {@code _rebuild_tensor_v2} gives a {@link
 * TensorRef}, {@code OrderedDict()} a map, a {@code torch.jit._pickle} builder its value, {@code
 * NEWOBJ} of an allowed class a {@link ModuleObject}. Any other global, and the opcodes that build
 * arbitrary objects ({@code INST}, {@code OBJ}, {@code NEWOBJ_EX}, the extension registry), stop the
 * read with a {@link PickleException} naming it. Sizes are checked against the bytes left before
 * anything is allocated; the memo holds at most {@link #MAX_MEMO} entries.
 *
 * <p>Values come out as Java values: {@code None} is null, ints {@code Long} (or {@code
 * BigInteger}), floats {@code Double}, {@code str} {@code String}, {@code bytes} {@code byte[]},
 * lists {@code List}, tuples {@link Tuple}, dicts insertion-ordered {@code Map}.
 *
 * <pre>{@code
 * Object top = RestrictedUnpickler.read(bytes, globals); // a Map for a state dict, a ModuleObject for TorchScript
 * }</pre>
 */
public final class RestrictedUnpickler {
  /** The most memo entries a pickle may store (torch's pickles store one per object). */
  public static final int MAX_MEMO = 1 << 24;

  /** A Python tuple. */
  public record Tuple(List<Object> items) {}

  /** A global the pickle named (always one its {@link PickleGlobals} allow). */
  public record Global(String module, String name) {
    @Override
    public String toString() {
      return module + "." + name;
    }
  }

  /** An object of an allowed class (a TorchScript module): its class name and its attributes in pickle order. */
  public record ModuleObject(String className, Map<String, Object> attributes) {}

  /** A storage the pickle refers to: its record key ({@code data/KEY}), type name, element type, count and device. */
  public record StorageRef(String key, String typeName, DType dtype, long numel, String location) {}

  /** A tensor: a view of a storage at an offset, with sizes and strides in elements (not yet checked against it). */
  public record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    /** Elements in the view (sizes taken as they are: check them first). */
    public long numel() {
      long n = 1;
      for (long d : size) {
        n *= d;
      }
      return n;
    }

    /** Whether the view is the whole storage, row-major, from its start. */
    public boolean coversStorage() {
      if (offset != 0 || numel() != storage.numel()) {
        return false;
      }
      long expected = 1;
      for (int i = size.length - 1; i >= 0; i--) {
        if (size[i] != 1 && stride[i] != expected) {
          return false;
        }
        expected *= size[i];
      }
      return true;
    }

    @Override
    public String toString() {
      return storage.dtype() + Arrays.toString(size) + " in storage " + storage.key();
    }
  }

  private static final Object MARK = new Object();

  /** Python's None on the stack (an ArrayDeque holds no null); turned into null in values. */
  private static final Object NONE = new Object() {
    @Override
    public String toString() {
      return "None";
    }
  };

  private final PickleGlobals globals;
  private final ByteBuffer in;
  private final Deque<Object> stack = new ArrayDeque<>();
  private final Map<Long, Object> memo = new HashMap<>();
  private final Map<String, StorageRef> storages = new LinkedHashMap<>();

  private RestrictedUnpickler(byte[] data, PickleGlobals globals) {
    this.globals = globals;
    this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Reads one pickle.
   *
   * @param globals the globals it may name
   * @return the top-level value (a state dict is a {@code Map}, a TorchScript module a {@link ModuleObject})
   * @throws PickleException for a global or opcode not allowed, or a truncated or malformed pickle;
   *     the message gives the byte
   */
  public static Object read(byte[] data, PickleGlobals globals) throws PickleException {
    RestrictedUnpickler u = new RestrictedUnpickler(data, globals);
    try {
      return u.run();
    } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
      throw new PickleException("pickle ends early (truncated?)", e);
    } catch (ClassCastException | java.util.NoSuchElementException | ArithmeticException e) {
      throw new PickleException("malformed pickle at byte " + u.in.position() + ": " + e.getMessage(), e);
    }
  }

  private Object run() throws PickleException {
    while (true) {
      int pos = in.position();
      int op = in.get() & 0xff;
      switch (op) {
        case 0x80 -> { // PROTO
          int v = in.get() & 0xff;
          if (v > 5) {
            throw error(pos, "pickle protocol " + v + " is newer than this reader knows (5)");
          }
        }
        case 0x95 -> in.getLong(); // FRAME: a length hint only
        case '.' -> { // STOP
          return orNone(pop());
        }
        case '(' -> stack.push(MARK);
        case '0' -> pop();
        case '1' -> popMark();
        case '2' -> stack.push(peek(pos));
        case 'N' -> stack.push(NONE);
        case 0x88 -> stack.push(Boolean.TRUE);
        case 0x89 -> stack.push(Boolean.FALSE);
        case 'J' -> stack.push((long) in.getInt());
        case 'K' -> stack.push((long) (in.get() & 0xff));
        case 'M' -> stack.push((long) (in.getShort() & 0xffff));
        case 0x8a -> stack.push(longOf(bytes(in.get() & 0xff)));
        case 0x8b -> stack.push(longOf(bytes(length(in.getInt() & 0xffffffffL, pos))));
        case 'G' -> { // big-endian, as pickle has it
          stack.push(in.order(ByteOrder.BIG_ENDIAN).getDouble());
          in.order(ByteOrder.LITTLE_ENDIAN);
        }
        case 'X' -> stack.push(utf8(length(in.getInt() & 0xffffffffL, pos)));
        case 0x8c -> stack.push(utf8(in.get() & 0xff));
        case 0x8d -> stack.push(utf8(length(in.getLong(), pos)));
        case 'T' -> stack.push(latin1(length(in.getInt() & 0xffffffffL, pos)));
        case 'U' -> stack.push(latin1(in.get() & 0xff));
        case 'B' -> stack.push(bytes(length(in.getInt() & 0xffffffffL, pos)));
        case 'C' -> stack.push(bytes(in.get() & 0xff));
        case 0x8e -> stack.push(bytes(length(in.getLong(), pos)));
        case ')' -> stack.push(new Tuple(List.of()));
        case 't' -> stack.push(new Tuple(Collections.unmodifiableList(popMark())));
        case 0x85 -> stack.push(new Tuple(Collections.singletonList(orNone(pop()))));
        case 0x86 -> {
          Object b = orNone(pop());
          Object a = orNone(pop());
          stack.push(new Tuple(Arrays.asList(a, b)));
        }
        case 0x87 -> {
          Object c = orNone(pop());
          Object b = orNone(pop());
          Object a = orNone(pop());
          stack.push(new Tuple(Arrays.asList(a, b, c)));
        }
        case ']' -> stack.push(new ArrayList<>());
        case 'l' -> stack.push(new ArrayList<>(popMark()));
        case 'a' -> {
          Object v = orNone(pop());
          list(peek(pos), pos).add(v);
        }
        case 'e' -> {
          List<Object> items = popMark();
          list(peek(pos), pos).addAll(items);
        }
        case '}' -> stack.push(new LinkedHashMap<>());
        case 'd' -> {
          List<Object> items = popMark();
          Map<Object, Object> m = new LinkedHashMap<>();
          putAll(m, items, pos);
          stack.push(m);
        }
        case 's' -> {
          Object v = orNone(pop());
          Object k = key(orNone(pop()), pos);
          map(peek(pos), pos).put(k, v);
        }
        case 'u' -> {
          List<Object> items = popMark();
          putAll(map(peek(pos), pos), items, pos);
        }
        case 'c' -> stack.push(global(line(), line(), pos));
        case 0x93 -> { // STACK_GLOBAL
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw error(pos, "STACK_GLOBAL of non-strings");
          }
          stack.push(global(m, n, pos));
        }
        case 'R' -> {
          Object args = pop();
          Object f = pop();
          stack.push(reduce(f, args, pos));
        }
        case 0x81 -> { // NEWOBJ: only objects of the classes the caller allows, without arguments
          Object args = pop();
          Object cls = pop();
          if (!(cls instanceof Global g) || !globals.makesObjectsOf(g.module(), g.name())) {
            throw error(pos, "opcode NEWOBJ builds an object of " + describe(cls) + ": refused (nothing was run)");
          }
          if (!(args instanceof Tuple t) || !t.items().isEmpty()) {
            throw error(pos, "NEWOBJ makes " + g + " with arguments " + describe(args));
          }
          stack.push(new ModuleObject(g.toString(), new LinkedHashMap<>()));
        }
        case 'b' -> build(orNone(pop()), peek(pos), pos);
        case 'Q' -> stack.push(persistent(orNone(pop()), pos));
        case 'h' -> stack.push(memoGet(in.get() & 0xff, pos));
        case 'j' -> stack.push(memoGet(in.getInt() & 0xffffffffL, pos));
        case 'g' -> stack.push(memoGet(parseLong(line(), pos), pos));
        case 'q' -> memoPut(in.get() & 0xff, pos);
        case 'r' -> memoPut(in.getInt() & 0xffffffffL, pos);
        case 'p' -> memoPut(parseLong(line(), pos), pos);
        case 0x94 -> memoPut(memo.size(), pos);
        case 'I' -> { // INT, protocol 0: also True/False as 01/00
          String s = line();
          stack.push(s.equals("01") ? Boolean.TRUE : s.equals("00") ? Boolean.FALSE : parseLong(s, pos));
        }
        case 'i', 'o', 0x92 -> throw error(pos, "opcode " + opName(op) + " builds an arbitrary object: "
            + "refused (torch never needs it; nothing was run)");
        case 0x82, 0x83, 0x84 -> throw error(pos, "opcode " + opName(op) + " (the extension registry) refused; "
            + "nothing was run");
        default -> throw error(pos, "opcode 0x" + Integer.toHexString(op) + " is not one torch writes: refused; "
            + "nothing was run");
      }
    }
  }

  private static Object orNone(Object o) {
    return o == NONE ? null : o;
  }

  private static String opName(int op) {
    return switch (op) {
      case 'i' -> "INST";
      case 'o' -> "OBJ";
      case 0x92 -> "NEWOBJ_EX";
      case 0x82 -> "EXT1";
      case 0x83 -> "EXT2";
      default -> "EXT4";
    };
  }

  private Global global(String module, String name, int pos) throws PickleException {
    if (!globals.allows(module, name)) {
      throw new PickleException("the pickle refers to the Python global '" + module + "." + name + "' (byte " + pos
          + "): refused; nothing was run. " + globals.refusal());
    }
    return new Global(module, name);
  }

  /** BUILD: an object's state. A module object takes its attributes; torch's maps and tensors carry metadata only. */
  private void build(Object state, Object target, int pos) throws PickleException {
    if (target instanceof ModuleObject m && state instanceof Map<?, ?> attrs) {
      for (Map.Entry<?, ?> e : attrs.entrySet()) {
        m.attributes().put(String.valueOf(e.getKey()), e.getValue());
      }
    } else if (!(target instanceof Map) && !(target instanceof TensorRef)) {
      throw error(pos, "BUILD on " + describe(target) + " with " + describe(state));
    }
  }

  private Object reduce(Object f, Object args, int pos) throws PickleException {
    if (!(f instanceof Global g)) {
      throw error(pos, "REDUCE calls " + describe(f) + ", not a global");
    }
    if (!(args instanceof Tuple t)) {
      throw error(pos, "REDUCE of " + g + " without an argument tuple");
    }
    List<Object> a = t.items();
    switch (g.toString()) {
      case "collections.OrderedDict" -> {
        Map<Object, Object> m = new LinkedHashMap<>();
        if (!a.isEmpty() && a.get(0) instanceof List<?> pairs) {
          for (Object p : pairs) {
            if (p instanceof Tuple kv && kv.items().size() == 2) {
              m.put(key(kv.items().get(0), pos), kv.items().get(1));
            }
          }
        }
        return m;
      }
      case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2" -> {
        if (a.size() < 4 || !(a.get(0) instanceof StorageRef s)) {
          throw error(pos, g + " without a storage, offset, size and stride");
        }
        long offset = asLong(a.get(1), pos);
        long[] size = longs(a.get(2), pos);
        long[] stride = longs(a.get(3), pos);
        if (size.length != stride.length) {
          throw error(pos, "tensor of size " + Arrays.toString(size) + " with stride " + Arrays.toString(stride));
        }
        return new TensorRef(s, offset, size, stride);
      }
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
        if (a.isEmpty() || !(a.get(0) instanceof TensorRef r)) {
          throw error(pos, g + " without a tensor");
        }
        return r;
      }
      case "torch._tensor._rebuild_from_type_v2" -> { // (func, type, args, state): a Tensor or Parameter
        if (a.size() < 3 || !(a.get(1) instanceof Global type)
            || !(type.toString().equals("torch.Tensor") || type.toString().equals("torch.nn.parameter.Parameter"))) {
          throw error(pos, g + " of a tensor subclass: only torch.Tensor and Parameter are read");
        }
        if (!(a.get(0) instanceof Global inner) || inner.name().equals("_rebuild_from_type_v2")) {
          throw error(pos, g + " must wrap a tensor rebuilder");
        }
        return reduce(inner, a.get(2), pos);
      }
      case "torch.Size" -> {
        return a.isEmpty() ? new Tuple(List.of()) : a.get(0);
      }
      default -> {
        if (g.module().equals("torch.jit._pickle") && !a.isEmpty()) {
          return a.get(0); // build_intlist(list) etc., restore_type_tag(value, type): the value itself
        }
        throw error(pos, "REDUCE of " + g + " with " + describe(args) + ": it is not a function torch's pickles call");
      }
    }
  }

  /** {@code ('storage', storage_type, key, location, numel)}, as torch's persistent_id writes. */
  private StorageRef persistent(Object pid, int pos) throws PickleException {
    if (!(pid instanceof Tuple t) || t.items().size() < 5 || !"storage".equals(t.items().get(0))
        || !(t.items().get(1) instanceof Global type) || !(t.items().get(2) instanceof String key)) {
      throw error(pos, "persistent id " + describe(pid) + " is not a torch storage reference");
    }
    DType dtype = PickleGlobals.TORCH_STORAGES.get(type.name());
    if (!type.module().equals("torch") || dtype == null) {
      throw error(pos, "storage type " + type + " is not a torch storage");
    }
    if (key.isEmpty() || key.contains("/") || key.contains("..")) {
      throw error(pos, "storage key '" + key + "' is no record name");
    }
    long numel = asLong(t.items().get(4), pos);
    if (numel < 0) {
      throw error(pos, "storage " + key + " of " + numel + " elements");
    }
    String location = t.items().get(3) instanceof String l ? l : "";
    StorageRef known = storages.get(key);
    if (known != null) {
      if (known.dtype() != dtype || known.numel() != numel) {
        throw error(pos, "storage " + key + " referenced as " + known.typeName() + " of " + known.numel()
            + " and as " + type.name() + " of " + numel);
      }
      return known;
    }
    StorageRef s = new StorageRef(key, type.name(), dtype, numel, location);
    storages.put(key, s);
    return s;
  }

  private void memoPut(long key, int pos) throws PickleException {
    if (memo.size() >= MAX_MEMO && !memo.containsKey(key)) {
      throw error(pos, "more than " + MAX_MEMO + " memo entries");
    }
    memo.put(key, peek(pos));
  }

  private Object memoGet(long key, int pos) throws PickleException {
    Object o = memo.get(key);
    if (o == null) {
      throw error(pos, "memo key " + key + " used before it was set");
    }
    return o;
  }

  private Object pop() {
    Object o = stack.pop();
    if (o == MARK) {
      throw new java.util.NoSuchElementException("a MARK where a value was expected");
    }
    return o;
  }

  private Object peek(int pos) throws PickleException {
    Object o = stack.peek();
    if (o == null || o == MARK) {
      throw error(pos, "empty stack");
    }
    return o;
  }

  private List<Object> popMark() {
    List<Object> items = new ArrayList<>();
    while (true) {
      Object o = stack.pop();
      if (o == MARK) {
        break;
      }
      items.add(orNone(o));
    }
    Collections.reverse(items);
    return items;
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Object o, int pos) throws PickleException {
    if (!(o instanceof ArrayList<?> l)) {
      throw error(pos, "APPEND to " + describe(o));
    }
    return (List<Object>) l;
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> map(Object o, int pos) throws PickleException {
    if (!(o instanceof Map<?, ?> m)) {
      throw error(pos, "SETITEM on " + describe(o));
    }
    return (Map<Object, Object>) m;
  }

  private void putAll(Map<Object, Object> m, List<Object> items, int pos) throws PickleException {
    if (items.size() % 2 != 0) {
      throw error(pos, "odd number of dict items");
    }
    for (int i = 0; i < items.size(); i += 2) {
      m.put(key(items.get(i), pos), items.get(i + 1));
    }
  }

  /**
   * A dict key: a string, number, bool, None or tensor, as torch's dicts use. Containers are
   * refused: a pickle can make a list that holds itself, whose hash would never end.
   */
  private Object key(Object k, int pos) throws PickleException {
    if (k == null || k instanceof String || k instanceof Number || k instanceof Boolean || k instanceof TensorRef) {
      return k;
    }
    throw error(pos, "a dict key of type " + describe(k) + "; keys are strings, numbers, booleans, None or tensors");
  }

  private int length(long n, int pos) throws PickleException {
    if (n < 0 || n > in.remaining()) {
      throw error(pos, "a value of " + Long.toUnsignedString(n) + " bytes, but only " + in.remaining() + " remain");
    }
    return (int) n;
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n > in.remaining() ? in.remaining() + 1 : n]; // over-long: underflow below
    in.get(b);
    return b;
  }

  private String utf8(int n) {
    return new String(bytes(n), StandardCharsets.UTF_8);
  }

  private String latin1(int n) {
    return new String(bytes(n), StandardCharsets.ISO_8859_1);
  }

  private String line() throws PickleException {
    int start = in.position();
    while (in.get() != '\n') {
      if (in.position() - start > 1024) {
        throw error(start, "text field longer than 1024 bytes");
      }
    }
    return new String(in.array(), start, in.position() - start - 1, StandardCharsets.UTF_8);
  }

  private static Object longOf(byte[] le) {
    byte[] be = new byte[le.length];
    for (int i = 0; i < le.length; i++) {
      be[i] = le[le.length - 1 - i];
    }
    if (be.length == 0) {
      return 0L;
    }
    BigInteger v = new BigInteger(be);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private long parseLong(String s, int pos) throws PickleException {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      throw error(pos, "bad number '" + s + "'");
    }
  }

  private long asLong(Object o, int pos) throws PickleException {
    if (o instanceof Long l) {
      return l;
    }
    throw error(pos, "expected an integer, found " + describe(o));
  }

  private long[] longs(Object o, int pos) throws PickleException {
    if (!(o instanceof Tuple t)) {
      throw error(pos, "expected a tuple of integers, found " + describe(o));
    }
    long[] r = new long[t.items().size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = asLong(t.items().get(i), pos);
    }
    return r;
  }

  private static String describe(Object o) {
    if (o == null || o == NONE) {
      return "None";
    }
    return o instanceof Global g ? g.toString() : o.getClass().getSimpleName();
  }

  private static PickleException error(int pos, String what) {
    return new PickleException("pickle byte " + pos + ": " + what);
  }
}
