package dev.selfbyt.cortexsdr.pytorch;

import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What each attribute of each TorchScript class is used for, read from the archive's {@code code/}
 * (the TorchScript source PyTorch stores): which operator takes it, at which argument. A weight
 * passed to {@code torch.linear} is a MatMul weight reduced over its last axis, the right-hand side
 * of {@code torch.matmul} one reduced over its first, the kernel of {@code torch._convolution} a
 * convolution kernel, the table of {@code torch.embedding} or {@code torch.index} an embedding, the
 * parameters of {@code batch_norm}, {@code layer_norm}, {@code group_norm} norms; a weight passed
 * to a method or function defined in the code is followed into it. Only operators and argument
 * positions count, never attribute or class names, so it works for any model, traced or scripted.
 *
 * <pre>{@code
 * WeightUses uses = WeightUses.parse(Map.of("__torch__.torch.nn.modules.linear", code));
 * WeightUses.Role r = uses.role("__torch__.torch.nn.modules.linear.Linear", "weight", 2); // MATMUL_WEIGHT, axis 1
 * }</pre>
 */
public final class WeightUses {
  /** A role and reduction axis (-1: last) for the policy. */
  public record Role(TensorRole role, int axis) {
    static final Role OTHER = new Role(TensorRole.OTHER, -1);
  }

  /** One use: an operator and the argument position the weight takes in it. */
  record Use(String op, int arg) {}

  private record Function(String key, List<String> params, List<String> body, String className) {}

  private static final Pattern CLASS = Pattern.compile("^class (\\w+)\\(");
  private static final Pattern DEF = Pattern.compile("^(\\s*)def (\\w+)\\(");
  private static final Pattern ALIAS = Pattern.compile("^\\s*(\\w+) = (\\w+)((?:\\.\\w+)+)\\s*$");
  private static final Pattern CALL = Pattern.compile("(torch\\.(?:_\\w+|\\w+)|ops\\.aten\\.\\w+|self\\.(\\w+)"
      + "|\\((\\w+)\\)\\.(\\w+)|(?<![\\w.])(\\w+))\\(");
  private static final String PARAM = "\u0000param";

  /** Per class name: attribute path (relative to the object) to its uses. */
  private final Map<String, Map<String, Set<Use>>> byClass = new HashMap<>();

  private WeightUses() {}

  /**
   * Reads the code files of an archive.
   *
   * @param sources per Python module name ({@code __torch__.torch.nn.modules.conv}), its source
   */
  public static WeightUses parse(Map<String, String> sources) {
    List<Function> functions = new ArrayList<>();
    for (Map.Entry<String, String> e : sources.entrySet()) {
      functions.addAll(functions(e.getKey(), e.getValue()));
    }
    Map<String, Function> byName = new HashMap<>();
    for (Function f : functions) {
      byName.putIfAbsent(f.key(), f);
    }
    // parameter uses per function, followed through calls: a few rounds reach a fixpoint for real code
    Map<String, Map<Integer, Set<Use>>> paramUses = new HashMap<>();
    WeightUses w = new WeightUses();
    for (int round = 0; round < 4; round++) {
      for (Function f : functions) {
        Map<String, Set<Use>> uses = uses(f, byName, paramUses);
        Map<Integer, Set<Use>> params = new HashMap<>();
        for (Map.Entry<String, Set<Use>> u : uses.entrySet()) {
          if (u.getKey().startsWith(PARAM)) {
            params.put(Integer.parseInt(u.getKey().substring(PARAM.length())), u.getValue());
          } else if (f.className() != null) {
            w.byClass.computeIfAbsent(f.className(), k -> new HashMap<>())
                .computeIfAbsent(u.getKey(), k -> new LinkedHashSet<>()).addAll(u.getValue());
          }
        }
        paramUses.put(f.key(), params);
      }
    }
    return w;
  }

  /** The functions (methods and top-level defs) of one source file. */
  private static List<Function> functions(String module, String source) {
    List<Function> out = new ArrayList<>();
    String[] lines = source.split("\n", -1);
    String cls = null;
    for (int i = 0; i < lines.length; i++) {
      Matcher c = CLASS.matcher(lines[i]);
      if (c.find()) {
        cls = module + "." + c.group(1);
        continue;
      }
      if (!lines[i].isEmpty() && !Character.isWhitespace(lines[i].charAt(0)) && !lines[i].startsWith("def ")) {
        cls = null; // a top-level statement ends the class
      }
      Matcher d = DEF.matcher(lines[i]);
      if (!d.find()) {
        continue;
      }
      int indent = d.group(1).length();
      String owner = indent == 0 ? null : cls;
      StringBuilder header = new StringBuilder();
      int j = i;
      int depth = 0;
      boolean open = false;
      // the signature spans lines until its parentheses close
      for (; j < lines.length; j++) {
        header.append(lines[j]).append(' ');
        for (char ch : lines[j].toCharArray()) {
          if (ch == '(' || ch == '[') {
            depth++;
            open = true;
          } else if (ch == ')' || ch == ']') {
            depth--;
          }
        }
        if (open && depth <= 0) {
          break;
        }
      }
      String h = header.toString();
      int lp = h.indexOf('(');
      int rp = matching(h, lp);
      List<String> params = new ArrayList<>();
      for (String p : splitArgs(h.substring(lp + 1, Math.max(lp + 1, rp)))) {
        String name = p.contains(":") ? p.substring(0, p.indexOf(':')).strip() : p.strip();
        if (!name.isEmpty()) {
          params.add(name);
        }
      }
      if (owner != null && !params.isEmpty() && params.get(0).equals("self")) {
        params.remove(0);
      }
      List<String> body = new ArrayList<>();
      int k = j + 1;
      for (; k < lines.length; k++) {
        String l = lines[k];
        if (!l.isBlank() && indentOf(l) <= indent) {
          break;
        }
        body.add(l);
      }
      String key = (owner != null ? owner : module) + "#" + d.group(2);
      out.add(new Function(key, params, body, owner));
      i = k - 1;
    }
    return out;
  }

  /** Uses in one function, keyed by attribute path, or by {@code PARAM + index} for its parameters. */
  private static Map<String, Set<Use>> uses(Function f, Map<String, Function> byName,
      Map<String, Map<Integer, Set<Use>>> paramUses) {
    Map<String, String> vars = new HashMap<>();
    for (int i = 0; i < f.params().size(); i++) {
      vars.put(f.params().get(i), PARAM + i);
    }
    Map<String, Set<Use>> out = new LinkedHashMap<>();
    Map<String, String> functionAliases = new HashMap<>();
    for (String line : f.body()) {
      Matcher a = ALIAS.matcher(line);
      if (a.find() && a.group(2).equals("__torch__")) { // _0 = __torch__.torch.nn.functional.embedding
        String q = a.group(2) + a.group(3);
        functionAliases.put(a.group(1), q.substring(0, q.lastIndexOf('.')) + "#" + q.substring(q.lastIndexOf('.') + 1));
        continue;
      }
      if (a.find(0)) {
        String base = a.group(2).equals("self") ? "" : vars.get(a.group(2));
        if (base != null && !base.startsWith(PARAM)) {
          String path = (base.isEmpty() ? "" : base + ".") + a.group(3).substring(1);
          vars.put(a.group(1), path);
          continue;
        }
      }
      Matcher m = CALL.matcher(line);
      while (m.find()) {
        int lp = m.end() - 1;
        int rp = matching(line, lp);
        if (rp < 0) {
          continue;
        }
        List<String> args = splitArgs(line.substring(lp + 1, rp));
        String op = m.group(1);
        Map<Integer, Set<Use>> callee = null;
        if (m.group(2) != null) { // self.method(...)
          callee = paramUses.get(f.className() + "#" + m.group(2));
        } else if ("self".equals(m.group(3))) { // (self).method(...)
          callee = paramUses.get(f.className() + "#" + m.group(4));
        } else if (m.group(5) != null && functionAliases.containsKey(m.group(5))) {
          callee = paramUses.get(functionAliases.get(m.group(5)));
        } else if (m.group(5) != null) { // a top-level function of the code
          callee = topLevel(byName, paramUses, m.group(5));
        }
        for (int i = 0; i < args.size(); i++) {
          String path = resolve(args.get(i), vars);
          if (path == null) {
            continue;
          }
          if (op.startsWith("torch.") || op.startsWith("ops.aten.")) {
            out.computeIfAbsent(path, k -> new LinkedHashSet<>()).add(new Use(op.substring(op.lastIndexOf('.') + 1), i));
          } else if (callee != null && callee.containsKey(i)) {
            out.computeIfAbsent(path, k -> new LinkedHashSet<>()).addAll(callee.get(i));
          }
        }
      }
    }
    return out;
  }

  private static Map<Integer, Set<Use>> topLevel(Map<String, Function> byName, Map<String, Map<Integer, Set<Use>>> p,
      String name) {
    for (Map.Entry<String, Function> e : byName.entrySet()) {
      if (e.getValue().className() == null && e.getKey().endsWith("#" + name)) {
        return p.get(e.getKey());
      }
    }
    return null;
  }

  /** The attribute path (or parameter marker) an argument expression names, or null. */
  private static String resolve(String arg, Map<String, String> vars) {
    String s = arg.strip();
    if (s.contains("=")) { // keyword argument: name=value
      s = s.substring(s.indexOf('=') + 1).strip();
    }
    if (!s.matches("[A-Za-z_]\\w*(\\.\\w+)*")) {
      return null;
    }
    String[] parts = s.split("\\.");
    String base = parts[0].equals("self") ? "" : vars.get(parts[0]);
    if (base == null || base.startsWith(PARAM) && parts.length > 1) {
      return null;
    }
    StringBuilder sb = new StringBuilder(base);
    for (int i = 1; i < parts.length; i++) {
      sb.append(sb.length() == 0 ? "" : ".").append(parts[i]);
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  private static int indentOf(String l) {
    int i = 0;
    while (i < l.length() && l.charAt(i) == ' ') {
      i++;
    }
    return i;
  }

  /** The index of the bracket closing the one at {@code open} (strings skipped), or -1. */
  private static int matching(String s, int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}') {
        depth--;
        if (depth == 0) {
          return i;
        }
      } else if (c == '"' || c == '\'') {
        int end = s.indexOf(c, i + 1);
        i = end < 0 ? s.length() : end;
      }
    }
    return -1;
  }

  /** The top-level arguments of a call's argument text: commas inside brackets or quotes do not split. */
  private static List<String> splitArgs(String s) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(' || c == '[' || c == '{') {
        int end = matching(s, i); // brackets and the strings in them, skipped whole
        i = end < 0 ? s.length() : end;
      } else if (c == '"' || c == '\'') {
        int end = s.indexOf(c, i + 1);
        i = end < 0 ? s.length() : end;
      } else if (c == ',') {
        out.add(s.substring(start, i));
        start = i + 1;
      }
    }
    if (!s.substring(start).isBlank()) {
      out.add(s.substring(start));
    }
    return out;
  }

  /** The uses of {@code attribute} (a path relative to an object of {@code className}). */
  Set<Use> uses(String className, String attribute) {
    Map<String, Set<Use>> m = byClass.get(className);
    Set<Use> u = m == null ? null : m.get(attribute);
    return u == null ? Set.of() : u;
  }

  /**
   * The role of a tensor of rank {@code rank} held by {@code attribute} of an object of {@code
   * className}: the strongest use wins (MatMul, convolution, embedding over bias and norm); uses that
   * disagree on the reduction axis give {@link TensorRole#OTHER}.
   */
  public Role role(String className, String attribute, int rank) {
    Role best = null;
    for (Use u : uses(className, attribute)) {
      Role r = roleOf(u, rank);
      if (r == null) {
        continue;
      }
      if (best == null || strength(r.role()) > strength(best.role())) {
        best = r;
      } else if (strength(r.role()) == strength(best.role()) && strength(r.role()) == 2
          && (r.role() != best.role() || axis(r, rank) != axis(best, rank))) {
        return Role.OTHER;
      }
    }
    return best == null ? Role.OTHER : best;
  }

  private static int axis(Role r, int rank) {
    return r.axis() < 0 ? rank - 1 : r.axis();
  }

  private static int strength(TensorRole r) {
    return switch (r) {
      case MATMUL_WEIGHT, CONV_WEIGHT, EMBEDDING -> 2;
      case BIAS, NORM -> 1;
      default -> 0;
    };
  }

  /** The role one use gives, or null when it says nothing. */
  static Role roleOf(Use u, int rank) {
    String op = u.op();
    int a = u.arg();
    switch (op) {
      case "linear":
        return a == 1 && rank == 2 ? new Role(TensorRole.MATMUL_WEIGHT, 1) : a == 2 ? bias() : null;
      case "matmul", "mm", "bmm":
        if (rank != 2) {
          return null;
        }
        return a == 1 ? new Role(TensorRole.MATMUL_WEIGHT, 0) : a == 0 ? new Role(TensorRole.MATMUL_WEIGHT, 1) : null;
      case "addmm":
        return a == 0 ? bias() : a == 2 && rank == 2 ? new Role(TensorRole.MATMUL_WEIGHT, 0)
            : a == 1 && rank == 2 ? new Role(TensorRole.MATMUL_WEIGHT, 1) : null;
      case "_convolution", "conv1d", "conv2d", "conv3d", "convolution":
        return a == 1 && rank >= 3 ? new Role(TensorRole.CONV_WEIGHT, 1) : a == 2 ? bias() : null;
      case "embedding", "embedding_bag":
        return a == 0 && rank == 2 ? new Role(TensorRole.EMBEDDING, -1) : null;
      case "index", "index_select":
        return a == 0 && rank == 2 ? new Role(TensorRole.EMBEDDING, -1) : null;
      case "batch_norm", "instance_norm":
        return a >= 1 && a <= 4 ? norm() : null;
      case "layer_norm", "group_norm":
        return a == 2 || a == 3 ? norm() : null;
      case "_native_multi_head_attention":
        return (a == 5 || a == 7) && rank == 2 ? new Role(TensorRole.MATMUL_WEIGHT, 1)
            : a == 6 || a == 8 ? bias() : null;
      case "add", "sub":
        return rank <= 1 ? bias() : null;
      case "mul", "div":
        return rank <= 1 ? norm() : null;
      default:
        return null;
    }
  }

  private static Role bias() {
    return new Role(TensorRole.BIAS, -1);
  }

  private static Role norm() {
    return new Role(TensorRole.NORM, -1);
  }
}
