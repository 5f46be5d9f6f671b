#!/usr/bin/python3
"""Turns an ONNX model into a TorchScript file that computes the same network with PyTorch.

No pretrained PyTorch weights are available offline, so DJL's PyTorch engine is given the very
network of the ONNX file: a torch.nn.Module interprets the ONNX graph node by node with torch
operators (initializers and Constant nodes become buffers), torch.jit.trace records it on example
inputs, and the traced module is saved. Shapes stay dynamic: ONNX Shape becomes
torch._shape_as_tensor and sizes flow into reshape and slice as traced values, so the file runs at
any batch size and sequence length. Before saving, the traced module is run at two input sizes
and compared with the interpreter run eagerly; a difference fails the conversion.

Nothing is special-cased by model or tensor name. An operator type this tool does not know makes
it stop with the list of such types.

Usage (Debian's python3-torch and python3-onnx, so /usr/bin/python3):
  /usr/bin/python3 onnx_to_torchscript.py MODEL.onnx OUT.pt [--dim NAME=VALUE ...]
      [--batch 1] [--seq-len 128] [--check-seq-len 7]

Symbolic input dimensions take their value from --dim NAME=VALUE; otherwise the first axis is the
batch (--batch) and the others the sequence length (--seq-len). The check runs once more with
the non-batch symbolic dimensions at --check-seq-len.
"""

import argparse
import os
import sys
import tempfile
import warnings

import numpy as np
import onnx
import torch
from onnx import numpy_helper

# ONNX TensorProto element types -> torch dtypes.
DTYPES = {
    1: torch.float32, 2: torch.uint8, 3: torch.int8, 5: torch.int16, 6: torch.int32,
    7: torch.int64, 9: torch.bool, 10: torch.float16, 11: torch.float64, 16: torch.bfloat16,
}


def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def ints(t):
    """A small constant tensor (axes, steps, perm) as Python ints; these must not depend on input."""
    return [int(v) for v in t.reshape(-1).tolist()]


class OnnxGraphModule(torch.nn.Module):
    """Runs one ONNX graph with torch operators, node by node, in the graph's (topological) order."""

    def __init__(self, model):
        super().__init__()
        graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        self.buffer_of = {}
        for i, init in enumerate(graph.initializer):
            self._constant(init.name, numpy_helper.to_array(init), "w%d" % i)
        initializer_names = set(self.buffer_of)
        self.input_names = [i.name for i in graph.input if i.name not in initializer_names]
        self.output_names = [o.name for o in graph.output]
        self.nodes = []
        for k, n in enumerate(graph.node):
            a = attrs_of(n)
            if n.op_type == "Constant" and n.domain in ("", "ai.onnx"):
                self._constant(n.output[0], constant_value(n, a), "c%d" % k)
            else:
                self.nodes.append((n.op_type, list(n.input), list(n.output), a, n.name or n.output[0]))

    def _constant(self, name, array, buffer_name):
        self.register_buffer(buffer_name, torch.from_numpy(np.array(array, copy=True)), persistent=True)
        self.buffer_of[name] = buffer_name

    def forward(self, *inputs):
        env = dict(zip(self.input_names, inputs))
        for name, b in self.buffer_of.items():
            env[name] = getattr(self, b)
        for op, ins, outs, a, label in self.nodes:
            args = [env[i] if i else None for i in ins]
            try:
                result = OPS[op](self, args, a)
            except Exception as e:
                raise RuntimeError("ONNX node %s (%s): %s" % (label, op, e)) from e
            if not isinstance(result, (tuple, list)):
                result = (result,)
            for name, value in zip(outs, result):
                if name:
                    env[name] = value
        out = tuple(env[n] for n in self.output_names)
        return out[0] if len(out) == 1 else out


def constant_value(node, a):
    if "value" in a:
        return numpy_helper.to_array(a["value"])
    if "value_float" in a:
        return np.array(a["value_float"], dtype=np.float32)
    if "value_floats" in a:
        return np.array(a["value_floats"], dtype=np.float32)
    if "value_int" in a:
        return np.array(a["value_int"], dtype=np.int64)
    if "value_ints" in a:
        return np.array(a["value_ints"], dtype=np.int64)
    raise ValueError("Constant node %s: unsupported attribute(s) %s" % (node.name, sorted(a)))


def _div(m, x, a):
    if not x[0].is_floating_point() and not x[1].is_floating_point():
        return torch.div(x[0], x[1], rounding_mode="trunc")
    return x[0] / x[1]


def _pow(m, x, a):
    return torch.pow(x[0], x[1]).to(x[0].dtype)


def _gather(m, x, a):
    data, idx = x
    axis = a.get("axis", 0) % data.dim()
    return data[(slice(None),) * axis + (idx,)]


def _shape(m, x, a):
    s = torch._shape_as_tensor(x[0])
    start, end = a.get("start", 0), a.get("end", None)
    return s[start:end] if (start != 0 or end is not None) else s


def _reshape(m, x, a):
    data, shape = x
    allowzero = a.get("allowzero", 0)
    dims = []
    for i, v in enumerate(shape.tolist()):
        dims.append(data.shape[i] if v == 0 and not allowzero else shape[i])
    return data.reshape(dims)


def _axes(m, x, a, position):
    """Axes from the attribute (older opsets) or from input `position` (newer opsets)."""
    if "axes" in a:
        return list(a["axes"])
    if len(x) > position and x[position] is not None:
        return ints(x[position])
    return None


def _unsqueeze(m, x, a):
    y = x[0]
    axes = _axes(m, x, a, 1)
    rank = y.dim() + len(axes)
    for ax in sorted(v % rank for v in axes):
        y = y.unsqueeze(ax)
    return y


def _squeeze(m, x, a):
    y = x[0]
    axes = _axes(m, x, a, 1)
    if axes is None:
        return y.squeeze()
    for ax in sorted((v % y.dim() for v in axes), reverse=True):
        y = y.squeeze(ax)
    return y


def _reduce(fn):
    def op(m, x, a):
        axes = _axes(m, x, a, 1)
        keep = bool(a.get("keepdims", 1))
        if not axes:
            if a.get("noop_with_empty_axes", 0):
                return x[0]
            axes = list(range(x[0].dim()))
        return fn(x[0], dim=axes, keepdim=keep)
    return op


def _slice(m, x, a):
    data = x[0]
    if m.opset < 10:
        starts = torch.tensor(a["starts"])
        ends = torch.tensor(a["ends"])
        axes = list(a.get("axes", range(len(a["starts"]))))
        steps = [1] * len(axes)
    else:
        starts, ends = x[1], x[2]
        axes = ints(x[3]) if len(x) > 3 and x[3] is not None else list(range(starts.numel()))
        steps = ints(x[4]) if len(x) > 4 and x[4] is not None else [1] * len(axes)
    index = [slice(None)] * data.dim()
    for i, ax in enumerate(axes):
        if steps[i] <= 0:
            raise ValueError("Slice with step %d is not supported" % steps[i])
        index[ax % data.dim()] = slice(starts.reshape(-1)[i], ends.reshape(-1)[i], steps[i])
    return data[tuple(index)]


def _softmax(m, x, a):
    y = x[0]
    if m.opset >= 13:
        return torch.softmax(y, dim=a.get("axis", -1))
    axis = a.get("axis", 1) % y.dim()
    if axis == y.dim() - 1:
        return torch.softmax(y, dim=-1)
    # before opset 13: softmax over all dimensions from axis on, taken as one
    return torch.softmax(y.flatten(axis), dim=axis).reshape(y.shape)


def _transpose(m, x, a):
    perm = a.get("perm", list(reversed(range(x[0].dim()))))
    return x[0].permute(*perm)


def _gemm(m, x, a):
    A = x[0].t() if a.get("transA", 0) else x[0]
    B = x[1].t() if a.get("transB", 0) else x[1]
    y = a.get("alpha", 1.0) * torch.matmul(A, B)
    if len(x) > 2 and x[2] is not None:
        y = y + a.get("beta", 1.0) * x[2]
    return y


def _cast(m, x, a):
    to = a["to"]
    if to not in DTYPES:
        raise ValueError("Cast to ONNX type %d is not supported" % to)
    return x[0].to(DTYPES[to])


OPS = {
    "Add": lambda m, x, a: x[0] + x[1],
    "Sub": lambda m, x, a: x[0] - x[1],
    "Mul": lambda m, x, a: x[0] * x[1],
    "Div": _div,
    "Pow": _pow,
    "MatMul": lambda m, x, a: torch.matmul(x[0], x[1]),
    "Gemm": _gemm,
    "Sqrt": lambda m, x, a: torch.sqrt(x[0]),
    "Erf": lambda m, x, a: torch.erf(x[0]),
    "Exp": lambda m, x, a: torch.exp(x[0]),
    "Neg": lambda m, x, a: torch.neg(x[0]),
    "Relu": lambda m, x, a: torch.relu(x[0]),
    "Tanh": lambda m, x, a: torch.tanh(x[0]),
    "Sigmoid": lambda m, x, a: torch.sigmoid(x[0]),
    "Identity": lambda m, x, a: x[0],
    "Where": lambda m, x, a: torch.where(x[0], x[1], x[2]),
    "Softmax": _softmax,
    "ReduceMean": _reduce(torch.mean),
    "ReduceSum": _reduce(torch.sum),
    "Transpose": _transpose,
    "Reshape": _reshape,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": lambda m, x, a: torch.cat(x, dim=a["axis"]),
    "Gather": _gather,
    "Slice": _slice,
    "Shape": _shape,
    "Cast": _cast,
}


def check_supported(model, path):
    missing = sorted({(n.domain + ":" if n.domain not in ("", "ai.onnx") else "") + n.op_type
                      for n in model.graph.node
                      if n.op_type != "Constant" and (n.domain not in ("", "ai.onnx") or n.op_type not in OPS)})
    if missing:
        sys.exit("%s: unsupported ONNX operator type(s): %s (supported: Constant, %s)"
                 % (path, ", ".join(missing), ", ".join(sorted(OPS))))


def example_inputs(model, dims, batch, seq, seed):
    gen = torch.Generator().manual_seed(seed)
    initializer_names = {i.name for i in model.graph.initializer}
    out = []
    for inp in model.graph.input:
        if inp.name in initializer_names:
            continue
        tt = inp.type.tensor_type
        if tt.elem_type not in DTYPES:
            raise SystemExit("input %s: ONNX element type %d is not supported" % (inp.name, tt.elem_type))
        shape = []
        for axis, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value"):
                shape.append(d.dim_value)
            elif d.dim_param in dims:
                shape.append(dims[d.dim_param])
            else:
                shape.append(batch if axis == 0 else seq)
        dtype = DTYPES[tt.elem_type]
        if dtype.is_floating_point:
            out.append(torch.randn(shape, generator=gen).to(dtype))
        elif dtype == torch.bool:
            out.append(torch.randint(0, 2, shape, generator=gen).bool())
        else:
            # 0/1 are valid token ids, masks and segment ids alike
            out.append(torch.randint(0, 2, shape, generator=gen).to(dtype))
    return out


def max_rel_diff(a, b):
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    worst = 0.0
    for x, y in zip(a, b):
        x, y = x.double(), y.double()
        worst = max(worst, float((x - y).abs().max() / y.abs().max().clamp_min(1e-30)))
    return worst


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("onnx")
    p.add_argument("out")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--check-seq-len", type=int, default=7)
    p.add_argument("--dim", action="append", default=[], help="NAME=VALUE for a symbolic dimension")
    args = p.parse_args()
    dims = {}
    for d in args.dim:
        k, _, v = d.partition("=")
        dims[k] = int(v)

    model = onnx.load(args.onnx)
    check_supported(model, args.onnx)
    module = OnnxGraphModule(model).eval()
    example = example_inputs(model, dims, args.batch, args.seq_len, 1)
    with torch.no_grad(), warnings.catch_warnings():
        # constants read as Python values (axes, steps, which reshape entries are 0) warn while tracing;
        # the check below proves the trace still holds at another sequence length
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, tuple(example), check_trace=False)
        for seq in (args.seq_len, args.check_seq_len):
            x = tuple(example_inputs(model, dims, args.batch, seq, 2 + seq))
            d = max_rel_diff(traced(*x), module(*x))
            print("%s: traced vs interpreted, sequence length %d: max abs diff / max abs = %.2e" % (args.onnx, seq, d))
            if not d <= 1e-5:
                sys.exit("%s: the traced module differs from the interpreted graph at sequence length %d (%.3e)"
                         % (args.onnx, seq, d))
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".torchscript-", suffix=".pt.tmp", dir=out_dir)
    os.close(fd)
    try:
        traced.save(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print("%s: wrote %s (%d bytes; inputs %s, outputs %s)" % (args.onnx, args.out, os.path.getsize(args.out),
          ", ".join(module.input_names), ", ".join(module.output_names)))


if __name__ == "__main__":
    main()
