/**
 * PyTorch's file container, shared by the state-dict reader and writer ({@code statedict}) and the
 * TorchScript module ({@code cortexsdr-pytorch}): a zip of stored records whose {@code data.pkl} is
 * a pickle. One implementation of each part, so that a hostile file meets the same checks whichever
 * reader opens it:
 * <ul>
 *   <li>{@code RestrictedUnpickler}: reads a pickle without running anything. A pickle machine for
 *       protocols 2 to 5 that builds plain values ({@code None} as null, {@code Long}, {@code
 *       Double}, {@code String}, {@code byte[]}, {@code List}, {@code Tuple}, insertion-ordered
 *       {@code Map}) and interprets, in Java, the globals torch writes: tensor rebuilders give a
 *       {@code TensorRef} over a {@code StorageRef}, {@code OrderedDict} a map, {@code
 *       torch.jit._pickle} builders their value, and objects of the classes the caller allows
 *       ({@code __torch__.*} for TorchScript) a {@code ModuleObject} with its attributes. Which
 *       globals a pickle may name is the caller's {@code PickleGlobals}; any other global, and the
 *       opcodes that build arbitrary objects ({@code INST}, {@code OBJ}, {@code NEWOBJ_EX}, the
 *       extension registry), stop the read with a {@code PickleException} naming it and the byte.
 *       Lengths are checked against the bytes left before anything is allocated, the memo is
 *       bounded, dict keys are plain values (no container that could hold itself).
 *   <li>{@code PickleGlobals}: a whitelist of globals (exact names, or prefixes ending in
 *       {@code *}), the classes whose objects may be made, and the sentence that tells the user
 *       what the file may name; {@code PickleGlobals.TORCH_STORAGES}, the storage types and the
 *       element type each holds. The state-dict set lives in {@code StateDictReader}, the
 *       TorchScript set in {@code TorchScriptReader}.
 *   <li>{@code PickleException}: a pickle refused or malformed, the byte and the cause (the reader
 *       that caught it adds the file and record).
 *   <li>{@code StoredZip}: the central directory of a zip (zip64 included), checked against the
 *       file: every entry's local header and data lie inside the file before the directory, no
 *       name twice. Stored entries can be memory-mapped where they are.
 *   <li>{@code TorchZipWriter}: writes a zip as {@code torch.save} does: records stored, data
 *       aligned to 64 bytes by an {@code "FB"} extra field, a fixed timestamp, zip64 where sizes
 *       or offsets need it; onto a file channel or any output stream. The same records give the
 *       same bytes on every machine. {@code TorchZipWriter.writeFile(target, records)} writes a
 *       whole {@code .pt} file or nothing (a temporary file renamed into place), for the state-dict
 *       writer and TorchScript's {@code CaiTorch.decompress} alike.
 *   <li>{@code TorchZipException}: a zip that is damaged, truncated or no zip, with the record
 *       involved (if any) and the cause.
 * </ul>
 */
package dev.selfbyt.cortexsdr.converters.torchzip;
