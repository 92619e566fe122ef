#!/usr/bin/python3
"""Peer check of qsearch's safetensors model files, without qsearch code and
without the `safetensors` package (Debian 12 has no python3-safetensors):

  1. parse each DIR/model_*.safetensors with json + struct (header length,
     JSON header, __metadata__, dtypes, shapes, data offsets covering the data);
  2. build the tensors with torch.frombuffer and load them with
     load_state_dict(strict=True) into the equivalent torch.nn model
     (bench/train_torch.py's MASE JSC builder), so names and shapes must match
     PyTorch's own state_dict exactly;
  3. compare its eval-mode logits on DIR/x.npy with qsearch's
     DIR/logits_*.npy (to float rounding; predictions identical).

Prints "N passed, N failed" last. Usage: safetensors_peer.py DIR
"""
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "train_torch", os.path.join(HERE, "..", "bench", "train_torch.py"))
train_torch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train_torch)

DTYPES = {"F32": (torch.float32, 4), "I64": (torch.int64, 8)}


def read_safetensors(path):
    """Returns (metadata dict, {name: tensor}) parsed with plain Python."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    assert 8 + hlen <= len(raw), "header length beyond the file"
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    data = raw[8 + hlen:]
    meta = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in meta.values()), "metadata values must be strings"
    tensors, spans = {}, []
    for name, e in header.items():
        dtype, size = DTYPES[e["dtype"]]
        begin, end = e["data_offsets"]
        numel = 1
        for d in e["shape"]:
            numel *= d
        assert end - begin == numel * size, f"{name}: offsets do not match the shape"
        spans.append((begin, end))
        buf = bytearray(data[begin:end])
        t = torch.frombuffer(buf, dtype=dtype) if numel else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(e["shape"])
    spans.sort()
    pos = 0
    for b, e in spans:
        assert b == pos, "gap or overlap in the data area"
        pos = e
    assert pos == len(data), "unindexed trailing data"
    return meta, tensors


def check(dir_, stem):
    meta, sd = read_safetensors(os.path.join(dir_, f"model_{stem}.safetensors"))
    assert meta["format"] == "qsearch-model", meta
    for key in ("qsearch_version", "arch", "in_features", "classes"):
        assert key in meta, f"metadata lacks {key}"
    model = train_torch.build(meta["arch"], int(meta["in_features"]), int(meta["classes"]))
    model.load_state_dict(sd, strict=True)
    for name, t in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            assert t.dtype == torch.int64 and t.dim() == 0 and int(t) > 0, name
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(dir_, "x.npy")))
    want = torch.from_numpy(np.load(os.path.join(dir_, f"logits_{stem}.npy")))
    with torch.no_grad():
        got = model(x)
    diff = (got - want).abs().max().item()
    scale = max(1.0, want.abs().max().item())
    same_pred = bool((got.argmax(1) == want.argmax(1)).all())
    ok = diff <= 1e-5 * scale and same_pred
    print(f"  {'ok  ' if ok else 'FAIL'} {meta['arch']}: max |logit diff| {diff:.3g}, "
          f"predictions identical: {same_pred}", file=sys.stderr)
    return ok


def main():
    dir_ = sys.argv[1]
    stems = sorted(f[len("model_"):-len(".safetensors")] for f in os.listdir(dir_)
                   if f.startswith("model_") and f.endswith(".safetensors"))
    passed = failed = 0
    for stem in stems:
        try:
            ok = check(dir_, stem)
        except Exception as e:  # a malformed file is a failed check, not a crash
            print(f"  FAIL {stem}: {type(e).__name__}: {e}", file=sys.stderr)
            ok = False
        passed += ok
        failed += not ok
    if not stems:
        failed += 1
        print("  FAIL no model files", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
