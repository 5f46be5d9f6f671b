package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiFormat;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code cortexsdr}: compress a model into a {@code .cai} archive, look into one, check it, and
 * turn it back into a model. Exit codes: 0 on success, 1 on failure (one line on stderr naming the
 * file, the tensor and the cause), 2 on bad usage; with {@code --json} a failure also prints one
 * JSON error object on stdout. {@code --version} works on every command.
 */
@Command(
    name = "cortexsdr",
    mixinStandardHelpOptions = true,
    versionProvider = CortexSdrCommand.Version.class,
    description = "Compress neural-network models into .cai archives and back.",
    subcommands = {
      CompressCommand.class,
      InspectCommand.class,
      VerifyCommand.class,
      DecompressCommand.class,
      ExportOnnxCommand.class,
      PublishCommand.class,
      ZooCommand.class
    })
public final class CortexSdrCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Whether stderr is a terminal: a redrawn bar there, progress lines every 2 s otherwise. */
  boolean errIsTerminal;

  /** {@code --version} of every command: the library's version (from the pom) and the format's. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"cortexsdr " + CortexSdr.VERSION + " (.cai format " + CaiFormat.VERSION_MAJOR + "."
          + CaiFormat.VERSION_MINOR + ", Java " + Runtime.version().feature() + ")"};
    }
  }

  /** The command's root object, for its subcommands. */
  static CortexSdrCommand root(CommandLine.Model.CommandSpec spec) {
    return (CortexSdrCommand) spec.root().userObject();
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  /**
   * The error object {@code --json} prints on stdout: {@code ok} false, {@code error} (the one
   * line also printed on stderr, without the {@code cortexsdr: } prefix), {@code file} and {@code
   * tensor} (null when the error is about neither), {@code kind} (the exception's simple name, or
   * {@code usage} for bad usage, exit code 2), and {@code reason} (the cause alone) when known.
   */
  static String errorJson(Exception e, String msg) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ok", false);
    m.put("error", msg);
    m.put("file", null);
    m.put("tensor", null);
    m.put("kind", e instanceof CommandLine.ParameterException ? "usage" : e.getClass().getSimpleName());
    if (e instanceof CaiException c) {
      m.put("file", c.file());
      m.put("tensor", c.tensor());
      m.put("reason", c.reason());
    } else if (e instanceof FileSystemException f) {
      m.put("file", f.getFile());
      m.put("reason", f.getReason());
    }
    return Json.write(m);
  }

  /**
   * Whether stderr is a terminal. Linux says where file descriptor 2 points; elsewhere the
   * console (which from Java 22 exists when redirected too, so its {@code isTerminal} decides).
   */
  static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (java.io.IOException | UnsupportedOperationException | SecurityException e) {
      java.io.Console c = System.console();
      if (c == null) {
        return false;
      }
      try {
        return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
      } catch (ReflectiveOperationException | RuntimeException noSuchMethod) {
        return true; // before Java 22 a console exists only on a terminal
      }
    }
  }

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), stderrIsTerminal(), args));
  }

  /**
   * Runs the command with the given streams and returns its exit code (for tests and embedding);
   * {@code err} counts as no terminal: progress comes as lines, at most one every 2 s.
   */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    return run(out, err, false, args);
  }

  static int run(PrintWriter out, PrintWriter err, boolean errIsTerminal, String... args) {
    CortexSdrCommand root = new CortexSdrCommand();
    root.errIsTerminal = errIsTerminal;
    boolean json = Arrays.asList(args).contains("--json");
    CommandLine cl = new CommandLine(root);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      String msg = (e.getMessage() == null ? e.toString() : e.getMessage()).replace('\n', ' ') + ErrorHints.of(e);
      commandLine.getErr().println("cortexsdr: " + msg);
      commandLine.getErr().flush();
      if (json) {
        commandLine.getOut().println(errorJson(e, msg));
        commandLine.getOut().flush();
      }
      return 1;
    });
    cl.setParameterExceptionHandler((e, args1) -> {
      CommandLine c = e.getCommandLine();
      c.getErr().println("cortexsdr: " + e.getMessage());
      c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help'.");
      c.getErr().flush();
      if (json) { // a script asked for JSON: it gets JSON, even when the command line is wrong
        c.getOut().println(errorJson(e, e.getMessage().replace('\n', ' ')));
        c.getOut().flush();
      }
      return 2;
    });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }
}
