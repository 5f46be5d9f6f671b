package dev.selfbyt.cortexsdr.pytorch;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted unpickler for the {@code data.pkl} of a TorchScript archive: it understands the
 * pickle opcodes PyTorch's writer emits and builds plain Java values (strings, numbers, lists, maps)
 * plus three kinds of its own: {@link ModuleObject} (an object of a {@code __torch__} class with its
 * attributes), {@link TensorRef} (a tensor: storage, offset, size, stride) and {@link StorageRef}.
 * Globals are names, never code: only {@code __torch__.*} classes, {@code torch.*Storage} types,
 * {@code torch._utils._rebuild_tensor_v2}, {@code collections.OrderedDict} and the list builders of
 * {@code torch.jit._pickle} are accepted; any other global (say {@code os.system}) is refused with a
 * {@link TorchScriptFormatException} and nothing runs. Every length is checked against the bytes
 * left before anything is allocated.
 *
 * <pre>{@code
 * Object root = TorchPickle.read("model.pt", "data.pkl", bytes); // a ModuleObject
 * }</pre>
 */
public final class TorchPickle {
  /** An object of a TorchScript class: its class name and its attributes in pickle order. */
  public record ModuleObject(String className, Map<String, Object> attributes) {}

  /** A storage: its key in the archive ({@code data/KEY}), element type and element count. */
  public record StorageRef(String key, DType dtype, long numel) {}

  /** A tensor view of a storage. */
  public record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    /** Elements in the view. */
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

  private record Global(String module, String name) {
    String full() {
      return module + "." + name;
    }
  }

  private record Mark() {}

  private static final Mark MARK = new Mark();
  private static final int MAX_MEMO = 1 << 24;

  private static final Map<String, DType> STORAGES = Map.ofEntries(
      Map.entry("FloatStorage", DType.FLOAT32), Map.entry("DoubleStorage", DType.FLOAT64),
      Map.entry("HalfStorage", DType.FLOAT16), Map.entry("BFloat16Storage", DType.BFLOAT16),
      Map.entry("LongStorage", DType.INT64), Map.entry("IntStorage", DType.INT32),
      Map.entry("ShortStorage", DType.INT16), Map.entry("CharStorage", DType.INT8),
      Map.entry("ByteStorage", DType.UINT8), Map.entry("BoolStorage", DType.BOOL),
      Map.entry("ComplexFloatStorage", DType.COMPLEX64), Map.entry("ComplexDoubleStorage", DType.COMPLEX128));

  private final String file;
  private final String entry;
  private final ByteBuffer in;
  private final List<Object> stack = new ArrayList<>();
  private final Map<Integer, Object> memo = new HashMap<>();

  private TorchPickle(String file, String entry, byte[] bytes) {
    this.file = file;
    this.entry = entry;
    this.in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Reads one pickle.
   *
   * @param file the archive, for messages
   * @param entry the record inside it ({@code data.pkl}), for messages
   * @throws TorchScriptFormatException for a truncated or malformed pickle, or a global TorchScript
   *     does not write
   */
  public static Object read(String file, String entry, byte[] bytes) throws TorchScriptFormatException {
    TorchPickle p = new TorchPickle(file, entry, bytes);
    try {
      return p.run();
    } catch (java.nio.BufferUnderflowException e) {
      throw p.bad("ends in the middle of an instruction (truncated?)");
    } catch (ClassCastException | IndexOutOfBoundsException e) {
      throw p.bad("is malformed (" + e.getMessage() + ")");
    }
  }

  private TorchScriptFormatException bad(String why) {
    return new TorchScriptFormatException(file, null, entry + " " + why);
  }

  private Object run() throws TorchScriptFormatException {
    while (true) {
      if (!in.hasRemaining()) {
        throw bad("ends without a STOP instruction (truncated?)");
      }
      int at = in.position();
      int op = in.get() & 0xff;
      switch (op) {
        case 0x80 -> in.get(); // PROTO n
        case 0x95 -> in.getLong(); // FRAME: a size hint
        case '.' -> { // STOP
          return pop();
        }
        case 'c' -> push(global(line(), line()));
        case 0x93 -> { // STACK_GLOBAL
          String name = (String) pop();
          String module = (String) pop();
          push(global(module, name));
        }
        case 'q' -> memoize(in.get() & 0xff);
        case 'r' -> memoize(in.getInt());
        case 0x94 -> memoize(memo.size());
        case 'h' -> push(memoGet(in.get() & 0xff));
        case 'j' -> push(memoGet(in.getInt()));
        case '(' -> push(MARK);
        case ')' -> push(List.of());
        case 0x85 -> push(List.of(pop()));
        case 0x86 -> {
          Object b = pop();
          push(List.of(pop(), b));
        }
        case 0x87 -> {
          Object c = pop();
          Object b = pop();
          push(List.of(pop(), b, c));
        }
        case 't' -> push(List.copyOf(popToMark()));
        case '}' -> push(new LinkedHashMap<Object, Object>());
        case ']' -> push(new ArrayList<Object>());
        case 'a' -> {
          Object v = pop();
          list(peek()).add(v);
        }
        case 'e' -> {
          List<Object> items = popToMark();
          list(peek()).addAll(items);
        }
        case 's' -> {
          Object v = pop();
          Object k = pop();
          map(peek()).put(k, v);
        }
        case 'u' -> {
          List<Object> items = popToMark();
          if (items.size() % 2 != 0) {
            throw bad("has SETITEMS with an odd number of items at byte " + at);
          }
          Map<Object, Object> m = map(peek());
          for (int i = 0; i < items.size(); i += 2) {
            m.put(items.get(i), items.get(i + 1));
          }
        }
        case 'X' -> push(string(in.getInt() & 0xffffffffL));
        case 0x8c -> push(string(in.get() & 0xff));
        case 0x8d -> push(string(in.getLong()));
        case 'U' -> push(string(in.get() & 0xff));
        case 'T' -> push(string(in.getInt() & 0xffffffffL));
        case 'B' -> push(bytes(in.getInt() & 0xffffffffL));
        case 'C' -> push(bytes(in.get() & 0xff));
        case 'J' -> push((long) in.getInt());
        case 'K' -> push((long) (in.get() & 0xff));
        case 'M' -> push((long) (in.getShort() & 0xffff));
        case 0x8a -> push(long1(in.get() & 0xff));
        case 'G' -> push(readDoubleBe());
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'N' -> push(null);
        case '0' -> pop();
        case '1' -> popToMark();
        case '2' -> push(peek());
        case 'Q' -> push(persistent(pop()));
        case 'R' -> { // REDUCE
          Object args = pop();
          push(reduce(pop(), args));
        }
        case 0x81 -> { // NEWOBJ
          Object args = pop();
          Object cls = pop();
          if (!(cls instanceof Global g) || !g.module().startsWith("__torch__")) {
            throw bad("creates an object of " + describe(cls) + " at byte " + at + "; only TorchScript classes "
                + "(__torch__.*) are accepted");
          }
          if (!(args instanceof List<?> l) || !l.isEmpty()) {
            throw bad("creates " + g.full() + " with arguments at byte " + at);
          }
          push(new ModuleObject(g.full(), new LinkedHashMap<>()));
        }
        case 'b' -> { // BUILD
          Object state = pop();
          Object obj = peek();
          if (obj instanceof ModuleObject m && state instanceof Map<?, ?> attrs) {
            for (Map.Entry<?, ?> e : attrs.entrySet()) {
              m.attributes().put(String.valueOf(e.getKey()), e.getValue());
            }
          } else if (!(obj instanceof TensorRef)) {
            throw bad("sets the state of " + describe(obj) + " at byte " + at + ", which TorchScript does not write");
          }
        }
        default -> throw bad(String.format("has opcode 0x%02x at byte %d, which TorchScript archives do not use",
            op, at));
      }
    }
  }

  private double readDoubleBe() {
    in.order(ByteOrder.BIG_ENDIAN);
    double d = in.getDouble();
    in.order(ByteOrder.LITTLE_ENDIAN);
    return d;
  }

  private Object global(String module, String name) throws TorchScriptFormatException {
    Global g = new Global(module, name);
    boolean ok = module.equals("__torch__") || module.startsWith("__torch__.")
        || module.equals("torch") && STORAGES.containsKey(name)
        || module.equals("torch._utils") && name.equals("_rebuild_tensor_v2")
        || module.equals("collections") && name.equals("OrderedDict")
        || module.equals("torch.jit._pickle") && (name.startsWith("build_") || name.equals("restore_type_tag"));
    if (!ok) {
      throw bad("refers to the global " + g.full() + ", which a TorchScript archive does not use; refused "
          + "(nothing was run)");
    }
    return g;
  }

  private Object persistent(Object pid) throws TorchScriptFormatException {
    if (pid instanceof List<?> l && l.size() == 5 && "storage".equals(l.get(0)) && l.get(1) instanceof Global g
        && STORAGES.containsKey(g.name()) && l.get(2) instanceof String key && l.get(4) instanceof Long n && n >= 0) {
      if (key.isEmpty() || key.contains("/") || key.contains("..")) {
        throw bad("names a storage '" + key + "', which is no storage key");
      }
      return new StorageRef(key, STORAGES.get(g.name()), n);
    }
    throw bad("has a persistent id " + describe(pid) + " that is no tensor storage");
  }

  private Object reduce(Object fn, Object args) throws TorchScriptFormatException {
    if (!(fn instanceof Global g) || !(args instanceof List<?> a)) {
      throw bad("calls " + describe(fn) + ", which TorchScript does not write");
    }
    switch (g.full()) {
      case "collections.OrderedDict" -> {
        return new LinkedHashMap<Object, Object>();
      }
      case "torch._utils._rebuild_tensor_v2" -> {
        if (a.size() < 4 || !(a.get(0) instanceof StorageRef s) || !(a.get(1) instanceof Long off)) {
          throw bad("rebuilds a tensor from " + describe(args));
        }
        long[] size = longs(a.get(2));
        long[] stride = longs(a.get(3));
        if (size.length != stride.length || off < 0) {
          throw bad("rebuilds a tensor of size " + Arrays.toString(size) + " with stride " + Arrays.toString(stride)
              + " at offset " + off);
        }
        return new TensorRef(s, off, size, stride);
      }
      default -> {
        if (g.module().equals("torch.jit._pickle") && !a.isEmpty()) {
          return a.get(0); // build_intlist(list) etc., restore_type_tag(value, type): the value itself
        }
        throw bad("calls " + g.full() + " with " + describe(args));
      }
    }
  }

  private long[] longs(Object o) throws TorchScriptFormatException {
    if (!(o instanceof List<?> l)) {
      throw bad("has a tensor size or stride that is " + describe(o));
    }
    long[] r = new long[l.size()];
    for (int i = 0; i < r.length; i++) {
      if (!(l.get(i) instanceof Long v) || v < 0) {
        throw bad("has a tensor size or stride entry " + l.get(i));
      }
      r[i] = v;
    }
    return r;
  }

  private String line() throws TorchScriptFormatException {
    int start = in.position();
    while (in.hasRemaining()) {
      if (in.get() == '\n') {
        return new String(in.array(), start, in.position() - 1 - start, StandardCharsets.UTF_8);
      }
    }
    throw bad("ends inside a global name (truncated?)");
  }

  private String string(long n) throws TorchScriptFormatException {
    return new String(bytes(n), StandardCharsets.UTF_8);
  }

  private byte[] bytes(long n) throws TorchScriptFormatException {
    if (n < 0 || n > in.remaining()) {
      throw bad("declares a string of " + n + " bytes with " + in.remaining() + " left (truncated?)");
    }
    byte[] b = new byte[(int) n];
    in.get(b);
    return b;
  }

  private Object long1(int n) throws TorchScriptFormatException {
    if (n > 8) {
      throw bad("has an integer of " + n + " bytes");
    }
    long v = 0;
    for (int i = 0; i < n; i++) {
      v |= (in.get() & 0xffL) << (8 * i);
    }
    if (n > 0 && n < 8 && (v >>> (8 * n - 1) & 1) != 0) {
      v |= -1L << (8 * n); // sign-extend
    }
    return v;
  }

  private void memoize(int index) throws TorchScriptFormatException {
    if (index < 0 || memo.size() >= MAX_MEMO) {
      throw bad("has a memo index " + index);
    }
    memo.put(index, peek());
  }

  private Object memoGet(int index) throws TorchScriptFormatException {
    if (!memo.containsKey(index)) {
      throw bad("reads memo entry " + index + ", which was never stored");
    }
    return memo.get(index);
  }

  private void push(Object o) {
    stack.add(o);
  }

  private Object pop() throws TorchScriptFormatException {
    if (stack.isEmpty()) {
      throw bad("pops an empty stack");
    }
    Object o = stack.remove(stack.size() - 1);
    if (o == MARK) {
      throw bad("pops a mark as a value");
    }
    return o;
  }

  private Object peek() throws TorchScriptFormatException {
    if (stack.isEmpty()) {
      throw bad("reads an empty stack");
    }
    return stack.get(stack.size() - 1);
  }

  private List<Object> popToMark() throws TorchScriptFormatException {
    int i = stack.size() - 1;
    while (i >= 0 && stack.get(i) != MARK) {
      i--;
    }
    if (i < 0) {
      throw bad("has no mark where one is needed");
    }
    List<Object> items = new ArrayList<>(stack.subList(i + 1, stack.size()));
    stack.subList(i, stack.size()).clear();
    return items;
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Object o) throws TorchScriptFormatException {
    if (o instanceof ArrayList<?> l) {
      return (List<Object>) l;
    }
    throw bad("appends to " + describe(o));
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> map(Object o) throws TorchScriptFormatException {
    if (o instanceof LinkedHashMap<?, ?> m) {
      return (Map<Object, Object>) m;
    }
    throw bad("sets an item of " + describe(o));
  }

  private static String describe(Object o) {
    if (o instanceof Global g) {
      return g.full();
    }
    if (o == null) {
      return "None";
    }
    String s = o.toString();
    return o.getClass().getSimpleName() + " " + (s.length() > 80 ? s.substring(0, 80) + "..." : s);
  }
}
