"""Writes small PyTorch models and calibration fixtures for CalibrationInputsIT.

    /usr/bin/python3 calibration_models.py OUT_DIR

Needs Debian's python3-torch (1.13) and numpy; no onnx package. Seeded: every run writes the same
networks and data. Files:

- stream_gru.onnx  [audio: float 1x160, state_in: float 1x1x128] -> [logits 1x8, state_out 1x1x128]:
  a streaming audio model (frames of 16 samples, Linear, one GRU layer whose hidden state is an
  input and an output, a Linear head);
- bool_tokens.onnx [ids: int64 1xseq, keep: bool 1xseq] -> [pooled 1x64]: an embedding table of
  1000 rows, positions masked by the bool input, mean-pooled, a Linear;
- npz/s0..s3.npz: samples for bool_tokens (ids below 1000, keep as bool), np.savez;
- npz_bad/: one good sample and one whose 'keep' array is float32;
- npy_bad/x.npy: a truncated .npy;
- wav/: 16-bit PCM wav files (16 kHz mono, 8 kHz stereo, 44.1 kHz mono), tones and noise;
- wav_bad/x.wav: an 8-bit PCM wav.
"""
import os
import sys
import wave

import numpy as np
import torch


class StreamGru(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.front = torch.nn.Linear(16, 128)
        self.gru = torch.nn.GRU(128, 128, batch_first=True)
        self.head = torch.nn.Linear(128, 8)

    def forward(self, audio, state_in):
        frames = torch.relu(self.front(audio.reshape(1, 10, 16)))
        y, state_out = self.gru(frames, state_in)
        return self.head(y[:, -1]), state_out


class BoolTokens(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.table = torch.nn.Embedding(1000, 64)
        self.out = torch.nn.Linear(64, 64)

    def forward(self, ids, keep):
        e = self.table(ids) * keep.unsqueeze(-1).to(torch.float32)
        return self.out(e.sum(1) / (keep.to(torch.float32).sum(1, keepdim=True) + 1.0))


def write_wav(path, rate, channels, samples, width=2):
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def main(out):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    torch.onnx.export(StreamGru().eval(), (torch.randn(1, 160), torch.zeros(1, 1, 128)),
                      f"{out}/stream_gru.onnx", opset_version=13, input_names=["audio", "state_in"],
                      output_names=["logits", "state_out"])
    ids = torch.randint(0, 1000, (1, 12))
    keep = torch.ones(1, 12, dtype=torch.bool)
    torch.onnx.export(BoolTokens().eval(), (ids, keep), f"{out}/bool_tokens.onnx", opset_version=13,
                      input_names=["ids", "keep"], output_names=["pooled"],
                      dynamic_axes={"ids": {1: "seq"}, "keep": {1: "seq"}})
    for d in ["npz", "npz_bad", "npy_bad", "wav", "wav_bad"]:
        os.makedirs(f"{out}/{d}", exist_ok=True)
    for i in range(4):
        n = 8 + 2 * i
        np.savez(f"{out}/npz/s{i}.npz", ids=rng.integers(0, 1000, (1, n), dtype=np.int64),
                 keep=rng.random((1, n)) < 0.8)
    np.savez(f"{out}/npz_bad/a.npz", ids=np.zeros((1, 4), dtype=np.int64), keep=np.ones((1, 4), dtype=bool))
    np.savez(f"{out}/npz_bad/b.npz", ids=np.zeros((1, 4), dtype=np.int64), keep=np.ones((1, 4), dtype=np.float32))
    np.save(f"{out}/npy_bad/x.npy", np.zeros((4, 160), dtype=np.float32))
    with open(f"{out}/npy_bad/x.npy", "r+b") as f:
        f.truncate(os.path.getsize(f"{out}/npy_bad/x.npy") - 100)
    t16 = np.arange(16000) / 16000
    tone = 0.3 * np.sin(2 * np.pi * 440 * t16) + 0.05 * rng.standard_normal(16000)
    write_wav(f"{out}/wav/a_16k.wav", 16000, 1, (tone * 32767).astype("<i2"))
    t8 = np.arange(8000) / 8000
    left = 0.4 * np.sin(2 * np.pi * 300 * t8)
    right = 0.2 * rng.standard_normal(8000)
    write_wav(f"{out}/wav/b_8k_stereo.wav", 8000, 2, (np.stack([left, right], 1) * 32767).astype("<i2"))
    t44 = np.arange(22050) / 44100
    write_wav(f"{out}/wav/c_44k.wav", 44100, 1, (0.5 * np.sin(2 * np.pi * 1000 * t44) * 32767).astype("<i2"))
    write_wav(f"{out}/wav_bad/x.wav", 8000, 1, (rng.integers(0, 256, 800)).astype(np.uint8), width=1)


if __name__ == "__main__":
    main(sys.argv[1])
