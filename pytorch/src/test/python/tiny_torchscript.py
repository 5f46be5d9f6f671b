#!/usr/bin/python3
"""Writes small TorchScript modules for the pytorch module's unit tests (Debian's python3-torch, so
/usr/bin/python3): one network with a convolution, batch norm, linear layers, an embedding table and a
layer norm, from a fixed seed, saved traced (tiny_traced.pt) and scripted (tiny_scripted.pt), plus the
inputs and outputs PyTorch gives (tiny_io.pt is not written: the Java tests run both models themselves).

Usage: /usr/bin/python3 tiny_torchscript.py OUT_DIR
"""
import os
import sys

import torch


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8 * 8 * 8, 64)
        self.embed = torch.nn.Embedding(100, 64)
        self.norm = torch.nn.LayerNorm(64)
        self.head = torch.nn.Linear(64, 10)

    def forward(self, x, ids):
        h = torch.relu(self.bn(self.conv(x)))
        h = self.fc(torch.flatten(h, 1)) + self.embed(ids).sum(1)
        return self.head(self.norm(h))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    m = Tiny()
    # batch-norm statistics that are not the defaults, so they matter
    m.bn.running_mean.uniform_(-0.5, 0.5)
    m.bn.running_var.uniform_(0.5, 1.5)
    m.eval()
    x = torch.randn(2, 3, 8, 8)
    ids = torch.randint(0, 100, (2, 5))
    with torch.no_grad():
        torch.jit.trace(m, (x, ids)).save(os.path.join(out, "tiny_traced.pt"))
        torch.jit.script(m).save(os.path.join(out, "tiny_scripted.pt"))


if __name__ == "__main__":
    main()
