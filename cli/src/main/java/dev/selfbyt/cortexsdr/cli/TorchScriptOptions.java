package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import picocli.CommandLine;

/**
 * What {@code compress} does with the calibration flags on a TorchScript model. Calibration (GPTQ)
 * needs the inputs of each layer, which a TorchScript module run through DJL does not expose, so the
 * weights are rounded uncalibrated and the command says so; mixed precision and {@code int8-fast}
 * (ONNX Runtime's integer kernels) are refused with the reason.
 */
final class TorchScriptOptions {
  private TorchScriptOptions() {}

  static void check(CommandLine.Model.CommandSpec spec, CompressionOptions options, String calibrate,
      Double targetCosine) {
    if (options.preset() == Preset.INT8_FAST) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--preset int8-fast is for ONNX Runtime's integer "
          + "kernels; a TorchScript .cai is decoded into PyTorch when loaded: use --preset int8");
    }
    if (targetCosine != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--target-cosine (mixed precision) measures "
          + "each layer on calibration data, which needs an ONNX model; TorchScript weights are rounded "
          + "uncalibrated (export the model to ONNX for mixed precision)");
    }
    if (calibrate != null) {
      spec.commandLine().getErr().println("warning: TorchScript: --calibrate " + calibrate + " is not used: "
          + "calibration needs each layer's inputs, which PyTorch does not expose through DJL, so the weights are "
          + "rounded uncalibrated (compare outputs with dev.selfbyt.cortexsdr.pytorch.TorchFidelity, or export the "
          + "model to ONNX for GPTQ)");
      spec.commandLine().getErr().flush();
    }
  }
}
