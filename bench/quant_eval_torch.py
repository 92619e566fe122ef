#!/usr/bin/python3
"""PyTorch side of bench/quant_eval.sh: time to quantize a qsearch model under
one config and evaluate it on a split, as MASE does it: every LinearX forward
quantizes data_in, weight and bias with MASE's quantizers (the ones in
tests/gen_format_golden.py, bit-exact with MASE) and calls F.linear, ReLUX
quantizes its input, BatchNorm1d runs in eval mode; then accuracy and
cross-entropy loss. The whole split is one batch (no DataLoader overhead, in
PyTorch's favour). Config resolution and model loading happen once, outside
the timed region. Prints one JSON document with the median time.

  bench/quant_eval_torch.py MODEL CONFIG X.npy Y.npy [--reps N] [--min-seconds S]
                            [--threads T]
"""
import argparse
import importlib.util
import json
import os
import statistics
import time
import tomllib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("quant_peer", os.path.join(HERE, "..", "tests", "quant_peer.py"))
qp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(qp)


def evaluate(layers, types, quant, x, y):
    for m, typ, q in zip(layers, types, quant):
        if q is not None and q.get("data_in") is not None:
            x = q["data_in"][0](x)
        if typ == "linear":
            w, b = m.weight, m.bias
            if q is not None and q["weight"] is not None:
                w = q["weight"][0](w)
            if q is not None and q["bias"] is not None:
                b = q["bias"][0](b)
            x = F.linear(x, w, b)
        elif typ == "batch_norm1d":
            x = m(x)
        else:
            x = F.relu(x)
    acc = (x.argmax(1) == y).double().mean().item()
    loss = F.cross_entropy(x, y).item()
    return acc, loss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("config")
    ap.add_argument("x")
    ap.add_argument("y")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    meta, layers, names, types = qp.load_model(a.model)
    with open(a.config, "rb") as f:
        quant = qp.resolve(tomllib.load(f), names, types)
    x = torch.from_numpy(np.load(a.x).astype(np.float32))
    y = torch.from_numpy(np.load(a.y).astype(np.int64))
    times = []
    start = time.perf_counter()
    with torch.no_grad():
        evaluate(layers, types, quant, x, y)  # warm-up
        while len(times) < 10 * a.reps and (len(times) < a.reps or
                                            time.perf_counter() - start < a.min_seconds):
            t0 = time.perf_counter_ns()
            acc, loss = evaluate(layers, types, quant, x, y)
            times.append(time.perf_counter_ns() - t0)
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": a.threads,
                      "samples": int(x.shape[0]), "runs": len(times), "accuracy": acc,
                      "loss": loss, "median_ns": statistics.median(times)}))


if __name__ == "__main__":
    main()
