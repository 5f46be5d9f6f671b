/**
 * TorchScript models in and out of {@code .cai}: compress a TorchScript archive ({@code
 * torch.jit.save}), load the {@code .cai} back into DJL's PyTorch engine as a {@code ZooModel}, or
 * write it out again as a TorchScript file.
 *
 * <p>A TorchScript archive is a zip: {@code data.pkl} (the module object: its attributes, submodules
 * and tensors, pickled), {@code code/} (the TorchScript source of every module class), {@code
 * constants.pkl}, and {@code data/N}, one raw little-endian storage per tensor. Reading needs no
 * PyTorch: the weights are the storages, their names, shapes and dtypes come from {@code data.pkl},
 * read by a restricted unpickler that builds only what TorchScript writes (objects of
 * {@code __torch__} classes, tensors, lists, dicts) and refuses any other global without running
 * anything. (DJL's engine lists a module's parameters but not its buffers, and a traced model may
 * keep every weight in buffers.) The classes:
 * <ul>
 *   <li>{@code TorchScriptArchive}: the zip, its record prefix, its entries; {@code isTorchScript}
 *       tells a TorchScript zip ({@code code/} and {@code constants.pkl}) from a state-dict zip. The
 *       zip's directory is read by the converters' {@code torchzip.StoredZip}, and archives are
 *       written by its {@code torchzip.TorchZipWriter} (stored records, data aligned to 64 bytes, a
 *       fixed timestamp), the same code that reads and writes state dicts.
 *   <li>{@code WeightUses}: roles and reduction axes from how the module's code uses each attribute
 *       ({@code linear}, {@code matmul}, {@code _convolution}, {@code embedding} / {@code index},
 *       {@code batch_norm} / {@code layer_norm} / {@code group_norm}, {@code _native_multi_head_attention}),
 *       never from names.
 *   <li>{@code TorchScriptReader}: the archive as a {@code TensorSource}: one tensor per storage, named
 *       by the first attribute path that holds it ({@code layer1.0.conv1.weight}); its graph segment is
 *       the {@code TorchScriptSkeleton}. {@code data.pkl} is read by the converters' restricted
 *       unpickler ({@code converters.torchzip.RestrictedUnpickler}, shared with state dicts) with the
 *       globals TorchScript writes ({@code TorchScriptReader.GLOBALS}), giving {@code ModuleObject}s
 *       and {@code TensorRef}s (storage key, dtype, offset, size, stride).
 *   <li>{@code TorchScriptSkeleton}: the module with its weights zeroed: every record of the archive
 *       in order, weight storages reduced to their length (zeros need nothing more) and the tensor that
 *       fills them; writes the archive back with storages from a {@code .cai} (zeros where none is
 *       given: the zeroed module, which PyTorch loads).
 *   <li>{@code CaiTorch}: the front door: {@code load(cai, translator)} gives a DJL {@code ZooModel} on
 *       the PyTorch engine, {@code decompress(cai, out)} a TorchScript file, {@code isTorchScript(cai)}.
 *   <li>{@code PyTorchNatives}: whether DJL's PyTorch engine can start here, and a message saying how
 *       to get its native library when it cannot.
 *   <li>{@code TorchFidelity}: the original and the compressed model run in PyTorch on the same
 *       inputs (given or seeded random), compared by cosine and NMSE of their outputs.
 *   <li>{@code TorchScriptFormatException}: a bad TorchScript input or a {@code .cai} that does not fit
 *       its skeleton, naming the file, the tensor and the cause.
 * </ul>
 */
package dev.selfbyt.cortexsdr.pytorch;
