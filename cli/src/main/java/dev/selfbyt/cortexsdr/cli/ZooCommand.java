package dev.selfbyt.cortexsdr.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code cortexsdr zoo}: look into model repositories ({@code list}). */
@Command(name = "zoo", mixinStandardHelpOptions = true, versionProvider = CortexSdrCommand.Version.class,
    description = "Look into CortexSDR model repositories.", subcommands = {ZooListCommand.class})
final class ZooCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a zoo command is required (list)");
  }
}
