#!/usr/bin/python3
"""PyTorch eager batch-B latency of a qsearch model file, measured the way
`qsearch profile` measures (docs/metrics.md, "Latency"): inputs prepared
before timing, a rotating set of real test rows, warm-up, blocks of calls
lasting at least 10 us, per-call median with its order-statistic 95% CI.

The model file is opened with json + struct + torch.frombuffer
(tests/safetensors_peer.py) into bench/train_torch.py's MASE JSC builder.
With --quant Q.toml (by-type `integer` configs for linear and relu, as
configs/quant-int*.toml), the model is fake-quantized as MASE does: weights
and biases quantized in place, each Linear's and ReLU's input quantized by a
module in front of it (q(x) = clamp(round_half_even(x 2^f), lo, hi) / 2^f).

Prints one JSON document: median_ns, ci95_ns, p95_ns, runs, block, accuracy
of the same model on the test rows (a cross-check with qsearch), threads.
Run with Debian's /usr/bin/python3 (python3-torch).

    bench/latency_torch.py --model M.safetensors --data DIR [--quant Q.toml]
                           [--batch 1] [--budget 2] [--threads 1]
DIR holds test_x.npy / test_y.npy (`qsearch data export DATA -o DIR`).
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import time
import tomllib

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


train_torch = load_module("train_torch", os.path.join(HERE, "train_torch.py"))
peer = load_module("safetensors_peer", os.path.join(HERE, "..", "tests", "safetensors_peer.py"))


class FakeQuant(nn.Module):
    """MASE's integer quantizer on the input of the next module."""

    def __init__(self, width, frac, signed):
        super().__init__()
        self.scale = 2.0 ** frac
        self.lo = -(2 ** (width - 1)) if signed else 0
        self.hi = 2 ** (width - 1) - 1 if signed else 2 ** width - 1

    def forward(self, x):
        return torch.clamp(torch.round(x * self.scale), self.lo, self.hi) / self.scale


def int_params(entry, role):
    w = entry.get(f"{role}_width")
    f = entry.get(f"{role}_frac_width", "NA")
    if w is None:
        sys.exit(f"quant config: {role}_width missing")
    return int(w), (int(w) // 2 if f == "NA" else int(f))


def fake_quantize(model, path):
    """Applies a by-type integer [passes.quantize] config to a JSC model."""
    with open(path, "rb") as fh:
        q = tomllib.load(fh)["passes"]["quantize"]
    if q.get("by", "name") != "type":
        sys.exit("latency_torch: only by = \"type\" configs are supported")
    default = q.get("default", {}).get("config", {"name": "NA"})
    layers = []
    for mod in model.seq_blocks:
        kind = "linear" if isinstance(mod, nn.Linear) else "relu" if isinstance(mod, nn.ReLU) else None
        entry = q.get(kind, {}).get("config", default) if kind else {"name": "NA"}
        if entry.get("name", "NA") == "NA" or entry.get("bypass"):
            layers.append(mod)
            continue
        if entry["name"] != "integer":
            sys.exit(f"latency_torch: format {entry['name']} not supported (integer only)")
        w, f = int_params(entry, "data_in")
        layers.append(FakeQuant(w, f, signed=kind == "linear"))
        if kind == "linear":
            with torch.no_grad():
                for role, t in (("weight", mod.weight), ("bias", mod.bias)):
                    t.copy_(FakeQuant(*int_params(entry, role), signed=True)(t))
        layers.append(mod)
    model.seq_blocks = nn.Sequential(*layers)
    return model


def median_ci(n, conf=0.95):
    """Order-statistic CI of the median (0-based indices), as qs_latency_median_ci."""
    best = (0, n - 1)
    cdf, j = 0.0, -1
    for k in range((n - 1) // 2 + 1):
        cdf += math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2))
        if 2 * cdf <= 1 - conf:
            j = k
        else:
            break
    if j >= 0:
        best = (j, n - 1 - j)
    return best


def quantile(s, p):
    h = (len(s) - 1) * p
    lo = math.floor(h)
    return s[lo] + (h - lo) * (s[min(lo + 1, len(s) - 1)] - s[lo])


def measure(run, budget_s, min_block_ns=10_000, warmup_s=0.1):
    t0 = time.perf_counter()
    calls = 0
    while time.perf_counter() - t0 < warmup_s or calls < 10:
        run()
        calls += 1
    k = 1
    while True:  # calibrate: fastest of 3 blocks of k calls
        b = min(_block(run, k) for _ in range(3))
        if b >= min_block_ns or k >= 1 << 20:
            break
        k = min(64 * k, max(k + 1, math.ceil(1.25 * k * min_block_ns / b)))
    samples = []
    start = time.perf_counter()
    while time.perf_counter() - start < budget_s or len(samples) < 20:
        samples.append(_block(run, k) / k)
    s = sorted(samples)
    lo, hi = median_ci(len(s))
    return {"median_ns": quantile(s, 0.5), "p95_ns": quantile(s, 0.95), "ci95_ns": [s[lo], s[hi]],
            "runs": len(s), "block": k}


def _block(run, k):
    t = time.perf_counter_ns()
    for _ in range(k):
        run()
    return time.perf_counter_ns() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="directory with test_x.npy, test_y.npy")
    ap.add_argument("--quant", help="by-type integer [passes.quantize] TOML")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--budget", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    meta, sd = peer.read_safetensors(a.model)
    model = train_torch.build(meta["arch"], int(meta["in_features"]), int(meta["classes"]))
    model.load_state_dict(sd, strict=True)
    if a.quant:
        model = fake_quantize(model, a.quant)
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(a.data, "test_x.npy")).astype(np.float32))
    y = torch.from_numpy(np.load(os.path.join(a.data, "test_y.npy")).astype(np.int64))
    with torch.inference_mode():
        acc = (model(x).argmax(1) == y).float().mean().item()
        rows = max(a.batch, min(len(x), 1024))
        pool = x[torch.arange(rows) % len(x)].contiguous()
        batches = [pool[i:i + a.batch] for i in range(0, rows - a.batch + 1, a.batch)]
        state = {"i": 0}

        def run():
            model(batches[state["i"]])
            state["i"] = (state["i"] + 1) % len(batches)

        res = measure(run, a.budget)
    res.update({"engine": "torch-eager", "torch": torch.__version__, "threads": torch.get_num_threads(),
                "batch": a.batch, "quant": a.quant, "accuracy": acc, "samples": len(x)})
    print(json.dumps(res))


if __name__ == "__main__":
    main()
