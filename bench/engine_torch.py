#!/usr/bin/python3
"""PyTorch eager side of bench/engine.sh: batch-1 and batch-B latency of jsc-s
(16 features, 26 classes: letter) and mlp:784-1024-1024-10 (fashion-mnist),
float (and, for the MLP, float through oneDNN: torch.utils.mkldnn.to_mkldnn,
since this Debian build's own float GEMM is the generic reference BLAS) and with
torch.ao.quantization.quantize_dynamic (int8 weights, int8
activations quantized per call; the `onednn` quantized engine: this torch
build has no fbgemm), measured as bench/engine.c measures qsearch: per call,
thread CPU time (time.thread_time_ns), samples of k calls lasting about 1 ms,
all cases sampled in interleaved rounds, median over rounds. Single thread
(torch.set_num_threads(1)), torch.inference_mode(), eval mode. Inputs: the
rows bench/engine.c wrote (DIR/jsc-s_x.npy, DIR/mlp_x.npy), rotated per call.
Weights are PyTorch's default initialisation (latency does not depend on them).

Prints one JSON object per line: kind "latency", model, config ("float",
"float-onednn" or "torch-int8-dynamic"), engine "torch", batch, median_ns, rounds.

    bench/engine_torch.py --npy DIR [--rounds 15] [--batch 256]
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.utils.mkldnn
from torch import nn


def jsc_s(features, classes):
    return nn.Sequential(
        nn.BatchNorm1d(features), nn.ReLU(), nn.Linear(features, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
        nn.Linear(32, classes), nn.BatchNorm1d(classes), nn.ReLU())


def mlp():
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))


class Case:
    def __init__(self, model, config, module, pool, batch):
        self.model, self.config, self.module, self.batch = model, config, module, batch
        self.pool = pool
        self.off = 0
        self.iters = 1
        self.samples = []

    def call(self):
        x = self.pool[self.off:self.off + self.batch]
        self.module(x)
        self.off += self.batch
        if self.off + self.batch > len(self.pool):
            self.off = 0

    def sample(self):
        t0 = time.thread_time_ns()
        for _ in range(self.iters):
            self.call()
        return (time.thread_time_ns() - t0) / self.iters

    def calibrate(self):
        self.call()  # warm-up
        one = min(self.sample() for _ in range(4))
        self.iters = 1 if one > 1e6 else int(1e6 / max(one, 1.0)) + 1


class OnednnCase(Case):
    """Float model converted with torch.utils.mkldnn.to_mkldnn: inputs converted per call."""

    def call(self):
        x = self.pool[self.off:self.off + self.batch]
        self.module(x.to_mkldnn()).to_dense()
        self.off += self.batch
        if self.off + self.batch > len(self.pool):
            self.off = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npy", required=True)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--batch", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    torch.backends.quantized.engine = "onednn" if "onednn" in torch.backends.quantized.supported_engines else \
        torch.backends.quantized.supported_engines[0]
    models = {}
    x = torch.from_numpy(np.load(os.path.join(a.npy, "jsc-s_x.npy")))
    models["jsc-s"] = (jsc_s(x.shape[1], 26).eval(), x)
    x = torch.from_numpy(np.load(os.path.join(a.npy, "mlp_x.npy")))
    models["mlp"] = (mlp().eval(), x)
    cases = []
    for name, (m, pool) in models.items():
        q = torch.ao.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8)
        for batch in (1, a.batch):
            cases.append(Case(name, "float", m, pool, batch))
            cases.append(Case(name, "torch-int8-dynamic", q, pool, batch))
            if name == "mlp":  # oneDNN's float Linear (mkldnn has no BatchNorm1d, so not jsc-s)
                cases.append(OnednnCase(name, "float-onednn", torch.utils.mkldnn.to_mkldnn(m), pool, batch))
    with torch.inference_mode():
        for c in cases:
            c.calibrate()
        for _ in range(a.rounds):
            for c in cases:
                c.samples.append(c.sample())
    for c in cases:
        print(json.dumps({"kind": "latency", "model": c.model, "config": c.config, "engine": "torch",
                          "batch": c.batch, "median_ns": float(np.median(c.samples)), "rounds": a.rounds,
                          "calls_per_sample": c.iters, "quantized_engine": torch.backends.quantized.engine}))


if __name__ == "__main__":
    main()
