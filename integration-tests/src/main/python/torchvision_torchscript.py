#!/usr/bin/python3
"""Writes a torchvision architecture as TorchScript with seeded weights (no pretrained weights are
available offline): the model built with weights=None after torch.manual_seed(SEED), in eval mode,
traced on one 224x224 image. Real architectures with the weight shapes and value distributions of
their initialisation, for the TorchScript converter's size and fidelity checks. A layer whose
parameters all start at zero gets PyTorch's default initialisation, so that every output depends on
the weights.

Usage (Debian's python3-torch and python3-torchvision, so /usr/bin/python3):
  /usr/bin/python3 torchvision_torchscript.py resnet50|vit_b_16 OUT.pt [--seed 0]
"""
import argparse
import os

import torch
import torchvision


def main():
    p = argparse.ArgumentParser()
    p.add_argument("arch")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    model = getattr(torchvision.models, a.arch)(weights=None).eval()
    # some architectures start a layer at zero (ViT's classification head): its output would be zero
    # whatever the other weights, so such layers get PyTorch's default initialisation instead
    for m in model.modules():
        params = list(m.parameters(recurse=False))
        if params and hasattr(m, "reset_parameters") and all(bool((q == 0).all()) for q in params):
            m.reset_parameters()
    x = torch.randn(1, 3, 224, 224)
    tmp = a.out + ".tmp"
    with torch.no_grad():
        # the check re-runs the model and compares; the Java tests compare outputs themselves
        torch.jit.trace(model, x, check_trace=False).save(tmp)
    os.replace(tmp, a.out)
    print("%s: wrote %s (%d bytes, seed %d)" % (a.arch, a.out, os.path.getsize(a.out), a.seed))


if __name__ == "__main__":
    main()
