#!/usr/bin/python3
"""Writes the weight files the converter tests read, independently of the project's own writers.

Real weights come from the sentence encoders' ONNX files (no pretrained PyTorch weights are
available offline); they are given the names and layout PyTorch gives them. A weight that an ONNX
MatMul reads as its right-hand side is stored transposed, as torch.nn.Linear keeps it ([out, in]),
under the name of the module the MatMul node belongs to: torch's ONNX exporter names nodes by
module path ("/encoder/layer.0/attention/self/query/MatMul" -> "encoder.layer.0.attention.self.
query.weight"). Every other initializer keeps its name, which the exporter took from the state
dict. names.json records, for each stored tensor, the ONNX initializer it came from and whether it
was transposed, so that a test can put weights back into the ONNX graph.

Usage (Debian's python3-torch, python3-torchvision and python3-onnx, so /usr/bin/python3):
  weight_files.py safetensors MODEL.onnx OUT_DIR [--dtype f32|f16|bf16] [--shard-bytes N]
  weight_files.py safetensors-set MODEL.onnx OUT_DIR --shard-bytes N
      (OUT_DIR/f32, OUT_DIR/sharded (f32 in shards of at most N bytes), OUT_DIR/bf16, OUT_DIR/f16)
  weight_files.py statedict MODEL.onnx OUT.pt
  weight_files.py resnet50 OUT.pt [--seed 0]
  weight_files.py mixed OUT.pt [--seed 0]   (shared storages, views, every torch dtype, nesting)
  weight_files.py hostile OUT.pt MARKER     (a state dict whose pickle would run `touch MARKER`)
  weight_files.py same A.pt B.pt [A2.pt B2.pt ...]
      (one line per pair; exit 0 when every pair loads to bit-identical tensors)

safetensors files are written with json and struct as the format describes them: an 8-byte
little-endian header length, the JSON header (padded with spaces to 8 bytes), the raw tensors.
"""

import argparse
import collections
import json
import os
import struct
import sys

import numpy as np
import torch


def onnx_weights(path):
    """(name, array, onnx initializer name, transposed) for every initializer, in graph order."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    g = model.graph
    consumers = collections.defaultdict(list)
    for n in g.node:
        for k, i in enumerate(n.input):
            consumers[i].append((n, k))
    out = []
    used = set()
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        uses = consumers.get(init.name, [])
        name, transposed = init.name, False
        if arr.ndim == 2 and uses and all(n.op_type == "MatMul" and k == 1 for n, k in uses) and len(uses) == 1:
            node = uses[0][0].name  # "/encoder/layer.0/attention/self/query/MatMul"
            parts = [p for p in node.split("/") if p]
            if len(parts) >= 2:
                name = ".".join(parts[:-1]) + ".weight"
                arr = arr.T
                transposed = True
        if name in used:
            raise SystemExit("two weights would be named %s" % name)
        used.add(name)
        out.append((name, np.ascontiguousarray(arr), init.name, transposed))
    return out


ST_DTYPES = {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("int64"): "I64",
             np.dtype("int32"): "I32", np.dtype("int8"): "I8", np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL",
             np.dtype("float64"): "F64"}


def cast(arr, dtype):
    """Floating arrays in the asked dtype: (st dtype name, raw little-endian bytes)."""
    if arr.dtype.kind != "f" or dtype == "f32":
        return ST_DTYPES[arr.dtype], arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    if dtype == "f16":
        return "F16", arr.astype("<f2").tobytes()
    t = torch.from_numpy(np.array(arr, dtype=np.float32)).to(torch.bfloat16)  # round to nearest even
    return "BF16", t.view(torch.int16).numpy().astype("<i2").tobytes()


def write_safetensors(path, tensors, metadata):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    for name, dt, shape, data in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


def cmd_safetensors_set(a):
    weights = onnx_weights(a.model)
    for sub, dtype, shard in (("f32", "f32", 0), ("sharded", "f32", a.shard_bytes), ("bf16", "bf16", 0),
                              ("f16", "f16", 0)):
        cmd_safetensors(argparse.Namespace(model=a.model, out_dir=os.path.join(a.out_dir, sub), dtype=dtype,
                                           shard_bytes=shard), weights)


def cmd_safetensors(a, weights=None):
    os.makedirs(a.out_dir, exist_ok=True)
    weights = weights or onnx_weights(a.model)
    tensors = []
    names = {}
    for name, arr, onnx_name, transposed in weights:
        dt, data = cast(arr, a.dtype)
        tensors.append((name, dt, arr.shape, data))
        names[name] = {"onnx": onnx_name, "transposed": transposed}
    meta = {"format": "pt", "source": os.path.basename(a.model)}
    if a.shard_bytes <= 0:
        write_safetensors(os.path.join(a.out_dir, "model.safetensors"), tensors, meta)
    else:
        shards, cur, size = [], [], 0
        for t in tensors:
            if cur and size + len(t[3]) > a.shard_bytes:
                shards.append(cur)
                cur, size = [], 0
            cur.append(t)
            size += len(t[3])
        shards.append(cur)
        weight_map = {}
        for i, shard in enumerate(shards):
            fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
            write_safetensors(os.path.join(a.out_dir, fname), shard, meta)
            for t in shard:
                weight_map[t[0]] = fname
        index = {"metadata": {"total_size": sum(len(t[3]) for t in tensors)},
                 "weight_map": dict(sorted(weight_map.items()))}
        with open(os.path.join(a.out_dir, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=2)
            f.write("\n")
    with open(os.path.join(a.out_dir, "names.json"), "w") as f:
        json.dump(names, f, indent=1)


def cmd_statedict(a):
    sd = collections.OrderedDict()
    for name, arr, _, _ in onnx_weights(a.model):
        sd[name] = torch.from_numpy(np.array(arr))
    torch.save(sd, a.out)


def cmd_resnet50(a):
    import torchvision
    torch.manual_seed(a.seed)
    m = torchvision.models.resnet50()
    torch.save(m.state_dict(), a.out)


def cmd_mixed(a):
    g = torch.Generator().manual_seed(a.seed)
    w = torch.randn(64, 32, generator=g)
    base = torch.randn(10, 8, generator=g)
    sd = collections.OrderedDict()
    sd["encoder.weight"] = w
    sd["decoder.weight"] = w                      # tied: one storage, two keys
    sd["rows.weight"] = base[2:6]                 # a view at an offset into a larger storage
    sd["transposed.weight"] = torch.randn(16, 24, generator=g).t()  # not contiguous
    sd["conv.weight"] = torch.randn(8, 4, 3, 3, generator=g)
    for dt in (torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8,
               torch.uint8, torch.bool, torch.complex64):
        sd["t_" + str(dt).split(".")[1]] = (torch.randn(6, 5, generator=g) * 10).to(dt)
    sd["bn.num_batches_tracked"] = torch.tensor(7)
    sd["empty"] = torch.zeros(0, 3)
    torch.save({"model": sd, "epoch": 3, "note": "nested"}, a.out)


class RunsACommand:
    """Unpickling this runs os.system: what a hostile .pt does to Python's torch.load."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def cmd_hostile(a):
    sd = collections.OrderedDict()
    sd["fc.weight"] = torch.zeros(4, 4)
    sd["payload"] = RunsACommand("touch " + a.marker)
    torch.save(sd, a.out)


def flat(obj, prefix=""):
    """Tensors of a (nested) checkpoint by path; other values as they are."""
    out = collections.OrderedDict()
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flat(v, prefix + str(k) + "."))
    else:
        out[prefix[:-1]] = obj
    return out


def same_pair(a, b):
    # weights_only: the files under test are loaded without running any pickled code
    x = flat(torch.load(a, weights_only=True))
    y = flat(torch.load(b, weights_only=True))
    if list(x.keys()) != list(y.keys()):
        return "different keys"
    for k in x:
        if not torch.is_tensor(x[k]):
            if x[k] != y[k]:
                return "%s: %r vs %r" % (k, x[k], y[k])
            continue
        if x[k].dtype != y[k].dtype or x[k].shape != y[k].shape or x[k].stride() != y[k].stride():
            return "%s: %s %s vs %s %s" % (k, x[k].dtype, tuple(x[k].shape), y[k].dtype, tuple(y[k].shape))
        if not torch.equal(x[k].reshape(-1).view(torch.uint8), y[k].reshape(-1).view(torch.uint8)):
            return "%s: values differ" % k
    return None


def cmd_same(a):
    if len(a.files) % 2:
        raise SystemExit("same: give pairs of files")
    differ = 0
    for i in range(0, len(a.files), 2):
        why = same_pair(a.files[i], a.files[i + 1])
        if why:
            differ += 1
            print("%s %s: %s" % (a.files[i], a.files[i + 1], why))
        else:
            print("%s %s: identical" % (a.files[i], a.files[i + 1]))
    return 1 if differ else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("safetensors")
    s.add_argument("model")
    s.add_argument("out_dir")
    s.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    s.add_argument("--shard-bytes", type=int, default=0)
    s = sub.add_parser("safetensors-set")
    s.add_argument("model")
    s.add_argument("out_dir")
    s.add_argument("--shard-bytes", type=int, required=True)
    s = sub.add_parser("statedict")
    s.add_argument("model")
    s.add_argument("out")
    s = sub.add_parser("resnet50")
    s.add_argument("out")
    s.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("mixed")
    s.add_argument("out")
    s.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("hostile")
    s.add_argument("out")
    s.add_argument("marker")
    s = sub.add_parser("same")
    s.add_argument("files", nargs="+")
    a = p.parse_args()
    return {"safetensors": cmd_safetensors, "safetensors-set": cmd_safetensors_set, "statedict": cmd_statedict, "resnet50": cmd_resnet50,
            "hostile": cmd_hostile, "mixed": cmd_mixed, "same": cmd_same}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
