/**
 * TorchScript end to end: {@link dev.selfbyt.cortexsdr.it.torch.TorchFixtures} makes the real
 * TorchScript files (MiniLM and bge-small from their ONNX files by {@code
 * src/main/python/onnx_to_torchscript.py}, ResNet-50 and ViT-B/16 with seeded weights by {@code
 * src/main/python/torchvision_torchscript.py}, Debian's PyTorch), kept under {@code
 * target/torchscript} for the next run; {@link dev.selfbyt.cortexsdr.it.torch.TorchEmbedder} runs a
 * sentence encoder's TorchScript or {@code .cai} in DJL's PyTorch engine and pools as {@link
 * dev.selfbyt.cortexsdr.it.models.Embedder} does. PyTorch is not on this module's test classpath:
 * the {@code pytorch}-tagged tests run in failsafe's {@code torchscript} execution, which adds it.
 */
package dev.selfbyt.cortexsdr.it.torch;
