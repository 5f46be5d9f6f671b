"""Writes small PyTorch models with control flow as ONNX files, for ControlFlowIT.

    /usr/bin/python3 control_flow_models.py OUT_DIR

Needs Debian's python3-torch (1.13; no onnx package). Weights are seeded, so every run writes
the same networks. Files (inputs in brackets):

- if_scripted.onnx  [x: 2x256]: torch.jit.script turns `if x.sum() > 0` into an ONNX If whose
  branches run different 256x256 Linear layers (torch keeps their weights in the main graph and
  the branches read them as outer-scope values);
- loop_scripted.onnx [x: 2x256, n: int64 scalar]: a `for` loop of n steps over a 256x256 Linear
  and tanh, an ONNX Loop;
- lstm.onnx, gru.onnx [x: 1x10x64]: one torch.nn.LSTM / GRU layer, input 64, hidden 128.
"""
import sys

import torch


class Branchy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(256, 256)
        self.b = torch.nn.Linear(256, 256)

    def forward(self, x):
        if x.sum() > 0:
            y = self.a(x)
        else:
            y = torch.relu(self.b(x))
        return y


class Looping(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = torch.nn.Linear(256, 256)

    def forward(self, x, n: int):
        h = x
        for _ in range(n):
            h = torch.tanh(self.cell(h))
        return h


def main(out):
    torch.manual_seed(0)
    x = torch.randn(2, 256)
    torch.onnx.export(torch.jit.script(Branchy()), (x,), f"{out}/if_scripted.onnx", opset_version=13,
                      input_names=["x"], output_names=["y"])
    torch.onnx.export(torch.jit.script(Looping()), (x, 3), f"{out}/loop_scripted.onnx", opset_version=13,
                      input_names=["x", "n"], output_names=["y"])
    seq = torch.randn(1, 10, 64)
    torch.onnx.export(torch.nn.LSTM(64, 128, batch_first=True), (seq,), f"{out}/lstm.onnx", opset_version=13,
                      input_names=["x"], output_names=["y", "h", "c"])
    torch.onnx.export(torch.nn.GRU(64, 128, batch_first=True), (seq,), f"{out}/gru.onnx", opset_version=13,
                      input_names=["x"], output_names=["y", "h"])


if __name__ == "__main__":
    main(sys.argv[1])
