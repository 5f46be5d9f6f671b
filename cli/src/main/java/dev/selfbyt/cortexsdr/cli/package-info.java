/**
 * The {@code cortexsdr} command line (picocli). {@link dev.selfbyt.cortexsdr.cli.CortexSdrCommand}
 * is the entry point and owns the exit codes (0 success, 1 failure with one line on stderr, 2 bad
 * usage), the JSON error object {@code --json} prints on stdout for either failure, and the
 * {@code --version} every command answers (the pom's version, through {@code CortexSdr.VERSION};
 * {@code publish} alone takes {@code --version} as the published model's version);
 * each subcommand is one class: {@code CompressCommand}, {@code InspectCommand}, {@code
 * VerifyCommand}, {@code DecompressCommand}, {@code ExportOnnxCommand}, {@code PublishCommand} (a
 * {@code .cai} into a DJL repository or a Maven artifact, through the model zoo's publisher) and
 * {@code ZooCommand} with {@code ZooListCommand} ({@code zoo list}). {@code ModelFormats} opens
 * a source model by its content ({@code FileKind}), never its name (a folder with {@code
 * saved_model.pb} is a TensorFlow SavedModel, a zip with {@code code/} and {@code constants.pkl}
 * TorchScript); {@code SavedModelCalibration} is {@code compress --calibrate} for SavedModels (GPTQ
 * and an output check in TF Java, or a warning and plain rounding when TensorFlow's native library,
 * which the command does not bundle, is absent); {@code TorchScriptOptions} says what {@code
 * compress} does with calibration flags on TorchScript (rounds uncalibrated, and says so);
 * {@code CodecSummary} is the
 * per codec and bit width summary {@code inspect} starts with; {@code ProgressBar} draws on
 * stderr when it is a terminal and prints a line at most every 2 s when it is not. Every command
 * takes {@code --json} and then prints one JSON object on stdout and nothing else there.
 */
package dev.selfbyt.cortexsdr.cli;
