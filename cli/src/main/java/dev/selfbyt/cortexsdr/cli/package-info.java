/**
 * The {@code cortexsdr} command line (picocli). {@link dev.selfbyt.cortexsdr.cli.CortexSdrCommand}
 * is the entry point and owns the exit codes (0 success, 1 failure with one line on stderr, 2 bad
 * usage); each subcommand is one class: {@code CompressCommand}, {@code InspectCommand}, {@code
 * VerifyCommand}, {@code DecompressCommand}, {@code ExportOnnxCommand}. {@code ModelFormats} opens
 * a source model by its kind; {@code ProgressBar} draws on stderr when it is a terminal. Every
 * command takes {@code --json} and then prints one JSON object on stdout and nothing else there.
 */
package dev.selfbyt.cortexsdr.cli;
