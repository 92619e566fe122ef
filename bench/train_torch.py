#!/usr/bin/python3
"""PyTorch reference for `qsearch train`: the same architecture (MASE's JSC
family, mlp: specs) and the same recipe (Adam, cross-entropy, cosine schedule
stepped per epoch, shuffled batches with the last partial batch kept) on the
splits in DIR (train_x.npy, train_y.npy, val_x.npy, val_y.npy, test_x.npy,
test_y.npy, as written by `qsearch data export DATA -o DIR`).

Prints one JSON document: test accuracy and training wall time.
Run with Debian's /usr/bin/python3 (python3-torch).

    bench/train_torch.py --data DIR --model jsc-s [--epochs 30 --lr 1e-2
                         --batch 128 --seed 0 --threads 1]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def build(arch, features, classes):
    """nn.Sequential named `seq_blocks` as MASE's JSC models."""
    bn, relu, lin = nn.BatchNorm1d, nn.ReLU, nn.Linear
    zoo = {
        "jsc-tiny": lambda: [bn(features), relu(), lin(features, classes), relu()],
        "jsc-toy": lambda: [bn(features), relu(), lin(features, 8), bn(8), relu(),
                            lin(8, 8), bn(8), relu(), lin(8, classes), bn(classes), relu()],
        "jsc-s": lambda: [bn(features), relu(), lin(features, 64), bn(64), relu(),
                          lin(64, 32), relu(), lin(32, 32), relu(), lin(32, 32), relu(),
                          lin(32, classes), bn(classes), relu()],
        "jsc-three-linear": lambda: [bn(features), relu(), lin(features, 16), relu(),
                                     lin(16, 16), relu(), lin(16, classes), relu()],
    }
    if arch.startswith("mlp:"):
        widths = [int(w) for w in arch[4:].split("-")]
        if widths[0] != features or widths[-1] != classes:
            sys.exit(f"{arch}: ends must be {features} and {classes}")
        layers = []
        for i in range(1, len(widths)):
            layers.append(lin(widths[i - 1], widths[i]))
            if i + 1 < len(widths):
                layers.append(relu())
    elif arch in zoo:
        layers = zoo[arch]()
    else:
        sys.exit(f"unknown model {arch}")

    class JSC(nn.Module):
        def __init__(self):
            super().__init__()
            self.seq_blocks = nn.Sequential(*layers)

        def forward(self, x):
            return self.seq_blocks(x)

    return JSC()


def load(d, name):
    x = torch.from_numpy(np.load(os.path.join(d, f"{name}_x.npy")).astype(np.float32))
    y = torch.from_numpy(np.load(os.path.join(d, f"{name}_y.npy")).astype(np.int64))
    return x, y


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory of .npy splits")
    ap.add_argument("--model", default="jsc-s")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = load(a.data, "train")
    xva, yva = load(a.data, "val")
    xte, yte = load(a.data, "test")
    classes = int(max(ytr.max(), yva.max(), yte.max())) + 1
    model = build(a.model, xtr.shape[1], classes)
    has_bn = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    n = xtr.shape[0]

    t0, c0 = time.perf_counter(), time.process_time()
    history = []
    for epoch in range(a.epochs):
        te = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=gen)
        total, hits, seen = 0.0, 0, 0
        for s in range(0, n, a.batch):
            idx = order[s:s + a.batch]
            if len(idx) == 1 and has_bn:
                break  # BatchNorm refuses one sample in train mode (qsearch skips it too)
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            hits += (logits.argmax(1) == yb).sum().item()
            seen += len(idx)
        sched.step()
        val_acc = accuracy(model, xva, yva) if len(yva) else float("nan")
        history.append({"epoch": epoch + 1, "loss": total / seen, "train_acc": hits / seen,
                        "val_acc": val_acc, "seconds": time.perf_counter() - te})
    train_seconds = time.perf_counter() - t0
    train_cpu_seconds = time.process_time() - c0
    test_acc = accuracy(model, xte, yte)
    print(json.dumps({
        "peer": "pytorch", "torch_version": torch.__version__, "arch": a.model,
        "threads": a.threads, "epochs": a.epochs, "lr": a.lr, "batch": a.batch, "seed": a.seed,
        "train_samples": n, "test_samples": int(len(yte)), "test_accuracy": test_acc,
        "final_loss": history[-1]["loss"], "final_val_acc": history[-1]["val_acc"],
        "train_seconds": train_seconds, "train_cpu_seconds": train_cpu_seconds,
    }))


if __name__ == "__main__":
    main()
