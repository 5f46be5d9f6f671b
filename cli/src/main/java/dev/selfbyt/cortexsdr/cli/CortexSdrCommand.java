package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code cortexsdr}: compress a model into a {@code .cai} archive, look into one, check it, and
 * turn it back into a model. Exit codes: 0 on success, 1 on failure (one line on stderr naming the
 * file, the tensor and the cause), 2 on bad usage.
 */
@Command(
    name = "cortexsdr",
    mixinStandardHelpOptions = true,
    version = "cortexsdr " + CortexSdr.VERSION,
    description = "Compress neural-network models into .cai archives and back.",
    subcommands = {
      CompressCommand.class,
      InspectCommand.class,
      VerifyCommand.class,
      DecompressCommand.class,
      ExportOnnxCommand.class
    })
public final class CortexSdrCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  /**
   * The error object {@code --json} prints on stdout: {@code ok} false, {@code error} (the one
   * line also printed on stderr), {@code kind} (the exception's simple name), and {@code file},
   * {@code tensor}, {@code reason} when the error is about a {@code .cai} or model file.
   */
  static String errorJson(Exception e, String msg) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ok", false);
    m.put("error", msg);
    m.put("kind", e.getClass().getSimpleName());
    if (e instanceof CaiException c) {
      if (c.file() != null) {
        m.put("file", c.file());
      }
      if (c.tensor() != null) {
        m.put("tensor", c.tensor());
      }
      m.put("reason", c.reason());
    }
    return Json.write(m);
  }

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs the command with the given streams and returns its exit code (for tests and embedding). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new CortexSdrCommand());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      String msg = (e.getMessage() == null ? e.toString() : e.getMessage()).replace('\n', ' ');
      commandLine.getErr().println("cortexsdr: " + msg);
      commandLine.getErr().flush();
      CommandLine.ParseResult sub = parseResult.subcommand();
      if (sub != null && sub.hasMatchedOption("--json")) {
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
      return 2;
    });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }
}
