#!/usr/bin/python3
"""Trains two small Fashion-MNIST classifiers from a fixed seed and writes them as ONNX, for the
calibration tests and benchmarks of recurrent and convolutional models (issue 17).

  fashion_lstm       an LSTM over the 28 image rows (28 pixels each, hidden 64, one layer), then
                     Linear 64 -> 64, ReLU, Linear 64 -> 10: ONNX LSTM (W [1, 256, 28],
                     R [1, 256, 64]) and two Gemm with transB.
  fashion_mobilenet  a MobileNetV3-style network: a 3x3 stride-2 stem, three inverted residual
                     blocks (1x1 expansion, depthwise 3x3 or 5x5, squeeze-excitation with 1x1
                     convs and HardSigmoid, 1x1 projection, HardSwish), a 1x1 head conv, global
                     average pooling and two Linear layers. BatchNorm is folded into the convs by
                     the exporter. Depthwise 5x5 kernels are large enough to be quantized.

Training is bounded: a fixed number of steps of Adam on the 60,000 training images (batches
drawn by a seeded generator), two threads, about a minute per model on 2 cores. Input: float32
[batch, 1, 28, 28] (CNN) or [batch, 28, 28] (LSTM), pixels / 255 normalized by the dataset's
mean 0.2860 and deviation 0.3530.

Usage: /usr/bin/python3 fashion_models.py DATA_DIR OUT_DIR NAME...   (Debian's python3-torch
and dataset-fashion-mnist: DATA_DIR is /usr/share/datasets/fashion-mnist). Writes
OUT_DIR/NAME.onnx (temp file, then rename) and prints the fp32 test accuracy PyTorch measured.
"""

import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261203
MEAN, STD = 0.2860, 0.3530
STEPS = {"fashion_lstm": 400, "fashion_mobilenet": 300}
BATCH = 128


def images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    x = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, 28, 28).astype(np.float32)
    return torch.from_numpy((x / 255.0 - MEAN) / STD)


def labels(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64))


class RowLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 64, batch_first=True)
        self.fc1 = nn.Linear(64, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc2(F.relu(self.fc1(y[:, -1, :])))


class SqueezeExcite(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.down = nn.Conv2d(c, r, 1)
        self.up = nn.Conv2d(r, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * F.hardsigmoid(self.up(F.relu(self.down(s))))


class InvertedResidual(nn.Module):
    def __init__(self, cin, exp, cout, k, stride):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(cin, exp, 1, bias=False), nn.BatchNorm2d(exp), nn.Hardswish())
        self.depthwise = nn.Sequential(nn.Conv2d(exp, exp, k, stride, k // 2, groups=exp, bias=False),
                                       nn.BatchNorm2d(exp), nn.Hardswish())
        self.se = SqueezeExcite(exp, exp // 4)
        self.project = nn.Sequential(nn.Conv2d(exp, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.residual else y


class SmallMobileNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.Hardswish())
        self.blocks = nn.Sequential(
            InvertedResidual(32, 128, 48, 3, 2),
            InvertedResidual(48, 192, 64, 5, 1),
            InvertedResidual(64, 256, 64, 5, 1))
        self.head = nn.Sequential(nn.Conv2d(64, 256, 1, bias=False), nn.BatchNorm2d(256), nn.Hardswish())
        self.fc1 = nn.Linear(256, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        y = self.head(self.blocks(self.stem(x)))
        y = torch.flatten(F.adaptive_avg_pool2d(y, 1), 1)
        return self.fc2(F.hardswish(self.fc1(y)))


def build(name):
    return RowLstm() if name == "fashion_lstm" else SmallMobileNet()


def shaped(name, x):
    return x if name == "fashion_lstm" else x.unsqueeze(1)


def main():
    data, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    torch.set_num_threads(1)  # one thread: the same sums in the same order on every machine
    train_x = images(os.path.join(data, "train-images-idx3-ubyte.gz"))
    train_y = labels(os.path.join(data, "train-labels-idx1-ubyte.gz"))
    test_x = images(os.path.join(data, "t10k-images-idx3-ubyte.gz"))
    test_y = labels(os.path.join(data, "t10k-labels-idx1-ubyte.gz"))
    os.makedirs(out, exist_ok=True)
    for name in names:
        torch.manual_seed(SEED)
        g = torch.Generator().manual_seed(SEED)
        model = build(name)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=STEPS[name])
        start = time.time()
        model.train()
        for step in range(STEPS[name]):
            idx = torch.randint(0, train_x.shape[0], (BATCH,), generator=g)
            loss = F.cross_entropy(model(shaped(name, train_x[idx])), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if step % 100 == 99:
                print("%s: step %d, %.0f s" % (name, step + 1, time.time() - start), file=sys.stderr, flush=True)
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(shaped(name, test_x[i:i + 1000])).argmax(1) for i in range(0, 10000, 1000)])
        acc = (pred == test_y).float().mean().item()
        path = os.path.join(out, name + ".onnx")
        tmp = path + ".tmp"
        torch.onnx.export(model, shaped(name, test_x[:2]), tmp, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=14,
                          do_constant_folding=True)
        os.replace(tmp, path)
        print("%s: %d steps in %.0f s, fp32 test accuracy %.4f (PyTorch)" % (name, STEPS[name], time.time() - start,
                                                                               acc))


if __name__ == "__main__":
    main()
