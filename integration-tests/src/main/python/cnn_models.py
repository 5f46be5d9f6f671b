#!/usr/bin/python3
"""Writes real vision architectures as ONNX files: a MobileNetV3 classifier, a DB-style text
detector and a CRNN text recogniser, for the DJL engine's convolutional-network tests.

No pretrained weights are available offline, so every network gets a seeded initialisation
(torchvision's own init), then its BatchNorm statistics are estimated from a few seeded batches of
picture-like inputs in training mode, as fine-tuning would: activations stay in a realistic range through
the depth of the network instead of growing or vanishing, which is what makes an output
comparison meaningful. The same seed gives the same weights on every run (one CPU thread).

The three architectures, as published:
  mobilenet_v3_small / mobilenet_v3_large  torchvision 0.14 (Howard et al. 2019), 1000 classes;
      Conv, BatchNormalization (folded by the exporter), HardSwish, ReLU, squeeze-excitation
      (GlobalAveragePool, HardSigmoid, Mul), Gemm.
  db_detector  DBNet (Liao et al. 2020) as PaddleOCR builds it: a MobileNetV3-large backbone's
      four stages, an FPN (1x1 lateral convs, nearest 2x upsampling by Resize, adds, 3x3 convs,
      upsampling to 1/4 scale and concatenation) and the probability head (3x3 conv, BN, ReLU,
      two ConvTranspose 2x2 stride 2, Sigmoid). The lateral merges use bilinear interpolation
      (Resize linear, half_pixel) where the FPN upsamples by a size, nearest where by a factor.
  crnn  CRNN (Shi et al. 2015): a VGG-style conv stack that reduces height to 1, then a
      two-layer bidirectional LSTM over the width and a linear layer to the classes (LSTM,
      Transpose, Squeeze, Gemm/MatMul).
  svtr  an SVTR-tiny-like recogniser (Du et al. 2022): conv patch embedding, local (depthwise
      conv) and global (multi-head self-attention) mixing blocks with LayerNorm and GELU MLPs, a
      merging conv, height pooling, and a CTC head (MatMul, Softmax, LayerNormalization or its
      ReduceMean form, Erf, ReduceMean, HardSwish).

Usage: /usr/bin/python3 cnn_models.py OUT_DIR [NAME ...]   (Debian's python3-torch and
python3-torchvision; no python3-onnx needed). Writes OUT_DIR/NAME.onnx and prints one line per
file with its input shape.
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

SEED = 20261203
OPSET = 14  # HardSwish is an operator from opset 14 on


MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def scenes(n, shape, g):
    """Picture-like inputs: smooth random colour fields with dark boxes and strokes, normalized as
    torchvision's models expect (ImageNet mean and deviation)."""
    h, w = shape[2], shape[3]
    base = torch.rand((n, 3, h // 16 + 2, w // 16 + 2), generator=g)
    x = F.interpolate(base, size=(h, w), mode="bilinear", align_corners=False) * 0.6 + 0.3
    for i in range(n):
        for _ in range(12):
            y0 = int(torch.randint(0, h, (1,), generator=g))
            x0 = int(torch.randint(0, w, (1,), generator=g))
            bh = 1 + int(torch.randint(0, max(2, h // 8), (1,), generator=g))
            bw = 2 + int(torch.randint(0, max(3, w // 4), (1,), generator=g))
            x[i, :, y0:y0 + bh, x0:x0 + bw] = float(torch.rand((1,), generator=g)) * 0.4
    return (x - MEAN) / STD


def calibrate_batchnorm(model, shape, batches=4):
    """Estimates every BatchNorm's running statistics on seeded picture-like inputs (cumulative
    mean), so that activations keep a realistic scale on pictures."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for _ in range(batches):
            model(scenes(4, shape, g))
    model.eval()
    return model


class DbDetector(nn.Module):
    """DBNet's FPN neck and probability head on a MobileNetV3-large backbone."""

    def __init__(self, inner=96):
        super().__init__()
        features = torchvision.models.mobilenet_v3_large().features
        # stage ends at strides 4, 8, 16, 32 (torchvision's layer indices)
        self.stages = nn.ModuleList([features[0:4], features[4:7], features[7:13], features[13:17]])
        channels = [24, 40, 112, 960]
        self.lateral = nn.ModuleList([nn.Conv2d(c, inner, 1, bias=False) for c in channels])
        self.smooth = nn.ModuleList([nn.Conv2d(inner, inner // 4, 3, padding=1, bias=False) for _ in channels])
        self.head = nn.Sequential(
            nn.Conv2d(inner, inner // 4, 3, padding=1, bias=False),
            nn.BatchNorm2d(inner // 4),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(inner // 4, inner // 4, 2, 2),
            nn.BatchNorm2d(inner // 4),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(inner // 4, 1, 2, 2),
            nn.Sigmoid(),
        )

    def forward(self, x):
        feats = []
        for s in self.stages:
            x = s(x)
            feats.append(x)
        c2, c3, c4, c5 = [l(f) for l, f in zip(self.lateral, feats)]
        p4 = c4 + F.interpolate(c5, scale_factor=2.0, mode="nearest")
        p3 = c3 + F.interpolate(p4, size=c3.shape[2:], mode="bilinear", align_corners=False)
        p2 = c2 + F.interpolate(p3, scale_factor=2.0, mode="nearest")
        outs = [self.smooth[0](p2), self.smooth[1](p3), self.smooth[2](p4), self.smooth[3](c5)]
        size = outs[0].shape[2:]
        fused = torch.cat([outs[0]] + [F.interpolate(o, size=size, mode="nearest") for o in outs[1:]], dim=1)
        return self.head(fused)


class Crnn(nn.Module):
    """CRNN: conv features to a sequence along the width, a bidirectional LSTM, classes per step."""

    def __init__(self, classes=97, hidden=96):
        super().__init__()

        def block(cin, cout, pool):
            layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            if pool:
                layers.append(nn.MaxPool2d(pool, pool))
            return layers

        self.cnn = nn.Sequential(
            *block(3, 32, (2, 2)), *block(32, 64, (2, 2)), *block(64, 128, None), *block(128, 128, (2, 1)),
            *block(128, 192, None), *block(192, 192, (2, 1)), nn.Conv2d(192, 192, (2, 1)), nn.Hardswish())
        self.rnn = nn.LSTM(192, hidden, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        f = self.cnn(x)  # [N, C, 1, W]
        seq = f.squeeze(2).permute(2, 0, 1)  # [W, N, C]
        out, _ = self.rnn(seq)
        return self.fc(out).log_softmax(2)


class MixingBlock(nn.Module):
    """SVTR's mixing block: pre-norm multi-head self-attention over all positions (global mixing),
    or a depthwise 3x3 convolution over the feature map (local mixing, as SVTR-LCNet does), then
    a GELU MLP; both with residuals."""

    def __init__(self, dim, heads, local, hw):
        super().__init__()
        self.local = local
        self.hw = hw
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        if local:
            self.mixer = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        else:
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):  # x: [N, L, C]
        n, l, c = x.shape
        y = self.norm1(x)
        if self.local:
            h, w = self.hw
            y = self.mixer(y.transpose(1, 2).reshape(n, c, h, w)).flatten(2).transpose(1, 2)
        else:
            qkv = self.qkv(y).reshape(n, l, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            att = (q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(n, l, c)
            y = self.proj(y)
        x = x + y
        return x + self.mlp(self.norm2(x))


class Svtr(nn.Module):
    """SVTR-tiny-like recogniser (Du et al. 2022): two strided conv patch embedding, local then
    global mixing blocks, a merging conv halving the height, global blocks, height pooling and a
    CTC head (linear, HardSwish, linear, log-softmax over the classes at each of the W steps)."""

    def __init__(self, classes=97, dims=(64, 128), heads=(2, 4), hw=(8, 25)):
        super().__init__()
        self.embed = nn.Sequential(
            nn.Conv2d(3, dims[0] // 2, 3, 2, 1), nn.BatchNorm2d(dims[0] // 2), nn.GELU(),
            nn.Conv2d(dims[0] // 2, dims[0], 3, 2, 1), nn.BatchNorm2d(dims[0]), nn.GELU())
        self.hw = hw
        self.stage1 = nn.ModuleList([MixingBlock(dims[0], heads[0], True, hw), MixingBlock(dims[0], heads[0], False, hw)])
        self.merge = nn.Conv2d(dims[0], dims[1], 3, (2, 1), 1)
        self.merge_norm = nn.LayerNorm(dims[1])
        hw2 = (hw[0] // 2, hw[1])
        self.stage2 = nn.ModuleList([MixingBlock(dims[1], heads[1], False, hw2), MixingBlock(dims[1], heads[1], False,
                                                                                              hw2)])
        self.hw2 = hw2
        self.norm = nn.LayerNorm(dims[1])
        self.head = nn.Sequential(nn.Linear(dims[1], 192), nn.Hardswish(), nn.Linear(192, classes))

    def forward(self, x):
        x = self.embed(x)  # [N, C, 8, 25]
        n, c, h, w = x.shape
        x = x.flatten(2).transpose(1, 2)
        for b in self.stage1:
            x = b(x)
        x = self.merge(x.transpose(1, 2).reshape(n, c, h, w))  # [N, C2, 4, 25]
        n, c, h, w = x.shape
        x = self.merge_norm(x.flatten(2).transpose(1, 2))
        for b in self.stage2:
            x = b(x)
        x = self.norm(x).transpose(1, 2).reshape(n, c, h, w).mean(2).transpose(1, 2)  # [N, W, C2]
        return self.head(x).log_softmax(2)


MODELS = {
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(), (1, 3, 224, 224)),
    "mobilenet_v3_large": (lambda: torchvision.models.mobilenet_v3_large(), (1, 3, 224, 224)),
    "db_detector": (lambda: DbDetector(), (1, 3, 256, 320)),
    "crnn": (lambda: Crnn(), (1, 3, 32, 100)),
    "svtr": (lambda: Svtr(), (1, 3, 32, 100)),
}


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out = argv[1]
    names = argv[2:] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit("unknown model(s) %s; known: %s" % (unknown, ", ".join(MODELS)))
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    for name in names:
        make, shape = MODELS[name]
        torch.manual_seed(SEED)
        model = calibrate_batchnorm(make(), shape)
        example = scenes(1, shape, torch.Generator().manual_seed(SEED + 2))
        path = os.path.join(out, name + ".onnx")
        tmp = path + ".tmp"
        with torch.no_grad():
            torch.onnx.export(model, example, tmp, opset_version=OPSET, input_names=["input"],
                              output_names=["output"], do_constant_folding=True)
        os.replace(tmp, path)
        print("%s %s" % (path, "x".join(str(d) for d in shape)))


if __name__ == "__main__":
    main(sys.argv)
