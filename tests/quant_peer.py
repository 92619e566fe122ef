#!/usr/bin/python3
"""End-to-end peer check of `qsearch eval --quant` against PyTorch.

For each case (a qsearch model file, a `[passes.quantize]` TOML config and the
logits qsearch wrote with `qsearch eval --quant Q.toml --logits L.npy`), this
script builds the same model in torch (tests/safetensors_peer.py loads the
file, bench/train_torch.py builds MASE's JSC modules), resolves the config per
layer as MASE's quantize pass does, quantizes as MASE's quantized modules do
(quantizers from tests/gen_format_golden.py, bit-exact with MASE's), runs the
split and compares. Two forwards are run with the same quantizers:

  mase   MASE's own arithmetic: LinearX.forward = F.linear(q(x), q(W), q(b)),
         ReLUX.forward = relu(q(x)), BatchNorm1d in eval mode (running stats).
         Compared to qsearch's logits within a float32 error bound computed
         per logit (see docs/quantization.md): any logit outside it must come
         from a quantizer whose inputs differed by float rounding only and
         landed on both sides of a rounding boundary ("boundary flip"); any
         differing prediction must be such a flip or a tie within the bound.
  exact  the same model with qsearch's summation order (bias first, then
         k = 0..K-1, float32, no FMA; BN as x * scale + shift with
         scale = gamma / sqrt(var + eps)). Must equal qsearch's logits bit
         for bit: this isolates quantization semantics from summation order.

MASE's module semantics (chop/nn/quantized/modules, commit 6ff398c):
  linear  integer, minifloat_denorm, minifloat_ieee, log, block_fp: data_in,
          weight and bias quantized (block_fp: data_in with skip_first_dim);
          binary, ternary: weight only (data_in and bias pass through).
  relu    integer: data_in unsigned; minifloat/log/block_fp: data_in with the
          same (signed) quantizer; binary, ternary: pass through.
  other   (batch_norm1d) never quantized.
Config resolution (chop/passes/graph/transforms/quantize/quantize.py): by
"name" the node name else `default`; by "type" the op name else `default`;
`name = "NA"` or `bypass = true` leaves the layer in float.

Usage:
  quant_peer.py --x X.npy [--y Y.npy] --case MODEL TOML LOGITS [--case ...]
                [--json] [--threads N] [--mase MASE_CHECKOUT]
Prints one line per case and "N passed, N failed" last (or, with --json, one
JSON document with per-case figures on stdout and the lines on stderr).
"""
import argparse
import importlib.util
import json
import os
import sys
import tomllib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
F32 = torch.float32
U = 2.0 ** -24  # float32 unit roundoff


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


golden = _load("gen_format_golden", os.path.join(HERE, "gen_format_golden.py"))
st_peer = _load("safetensors_peer", os.path.join(HERE, "safetensors_peer.py"))

QUANTIZABLE = ("linear", "relu")
ROLES = ("data_in", "weight", "bias")


# ------------------------------------------------------------ config resolution

def na(v):
    """MASE's config loader turns the string "NA" into None."""
    return None if isinstance(v, str) and v in ("NA", "None") else v


def as_bool(v, key):
    if isinstance(v, bool):
        return v
    if v in (0, 1):
        return bool(v)
    raise ValueError(f"{key}: expected a boolean, got {v!r}")


def tensor_quantizer(fmt, params, role, layer_type):
    """(mase, exact) functions tensor -> tensor for one operand, or None (pass
    through); the two differ only where qsearch reduces in another order.
    params: this operand's parameters without the role prefix."""
    f = _tensor_quantizer(fmt, params, role, layer_type)
    return f if f is None or isinstance(f, tuple) else (f, f)


def _tensor_quantizer(fmt, params, role, layer_type):
    p = {k: na(v) for k, v in params.items()}
    known = {
        "integer": {"width", "frac_width", "is_signed", "round", "overflow"},
        "minifloat_denorm": {"width", "exponent_width", "exponent_bias"},
        "minifloat_ieee": {"width", "exponent_width", "exponent_bias"},
        "log": {"width", "exponent_bias"},
        "block_fp": {"width", "exponent_width", "exponent_bias", "block_size"},
        "binary": {"width", "stochastic", "bipolar"},
        "ternary": {"width", "scaling_factor", "mean", "median", "max"},
    }[fmt]
    for k in p:
        if k not in known:
            raise ValueError(f"{role}_{k}: not a parameter of {fmt} in MASE's modules")
    if fmt in ("binary", "ternary") and (layer_type == "relu" or role != "weight"):
        return None  # MASE: LinearBinary/Ternary quantize the weight only; ReLU passes through
    if fmt == "integer":
        w = p["width"]
        f = w // 2 if p.get("frac_width") is None else p["frac_width"]
        # MASE: relu data_in unsigned, linear signed; is_signed/round/overflow are
        # qsearch's ap_fixed extensions (MASE has none of them).
        signed = as_bool(p.get("is_signed", layer_type != "relu"), "is_signed")
        rnd = str(p.get("round", "RND_CONV")).upper().removeprefix("AP_")
        ovf = str(p.get("overflow", "SAT")).upper().removeprefix("AP_")
        if rnd == "RND_CONV" and ovf == "SAT":
            return lambda x: golden.q_integer_mase(x, w, f, signed)
        return lambda x: golden.q_integer_apfixed(x, w, f, signed, rnd, ovf)
    if fmt in ("minifloat_denorm", "minifloat_ieee"):
        fn = golden.q_minifloat_ieee if fmt == "minifloat_ieee" else golden.q_minifloat_denorm
        w, ew, b = p["width"], p["exponent_width"], p.get("exponent_bias")
        return lambda x: fn(x, w, ew, b)
    if fmt == "log":
        w, b = p["width"], p.get("exponent_bias")
        return lambda x: golden.q_log(x, w, b)
    if fmt == "block_fp":
        w = p.get("width", 12)
        ew = p.get("exponent_width", 8)
        b = p.get("exponent_bias")
        bs = p.get("block_size", [16])
        bs = [bs] if isinstance(bs, int) else list(bs)
        skip = role == "data_in"  # MASE: activations keep the batch dim out of blocks
        return lambda x: golden.q_block_fp(x, w, ew, b, bs, skip)
    if fmt == "binary":
        if as_bool(p.get("stochastic", False), "stochastic"):
            raise ValueError("binary stochastic draws random numbers: no deterministic peer")
        bip = as_bool(p.get("bipolar", False), "bipolar")
        return (lambda x: golden.q_binary(x, bip)), (lambda x: binary_qsearch_sums(x, bip))
    sc = as_bool(p.get("scaling_factor", False), "scaling_factor")
    return (lambda x: golden.q_ternary(x, sc)), (lambda x: ternary_qsearch_sums(x, sc))


# MASE's binary/ternary reduce a row with torch's float32 sum (its own order);
# qsearch sums in double and rounds once (docs/formats.md, "Sums"). The mase
# forward uses the former, the exact forward these twins of the latter; the
# error bound covers the difference (a last-bit change of a scale factor).

def _row_abs_sum(rows):
    return rows.abs().double().sum(1).to(F32)


def binary_qsearch_sums(x, bipolar):
    if bipolar:
        return golden.q_binary(x, True)
    rows = x.reshape(x.shape[0], -1)
    alpha = (_row_abs_sum(rows) / rows.shape[1]).unsqueeze(1)
    return (torch.where(rows > 0, 1.0, 0.0) * alpha).reshape(x.shape)


def ternary_qsearch_sums(x, scaling):
    rows = x.reshape(x.shape[0], -1) if x.ndim >= 2 else x.reshape(1, -1)
    n = rows.shape[1]
    delta = (torch.tensor(0.75, dtype=F32) * _row_abs_sum(rows) / n).unsqueeze(1)
    out = torch.where(rows > delta, 1.0, 0.0) + torch.where(rows < -delta, -1.0, 0.0)
    if scaling:
        a = rows.abs()
        t = (a > delta).to(F32)
        kept = (t * a).double().sum(1).to(F32)
        alpha = (kept / t.double().sum(1).to(F32)).unsqueeze(1)
        out = out * alpha
    return out.reshape(x.shape)


def resolve(doc, layer_names, layer_types):
    """Per layer: None (float) or {role: quantizer or None}, as MASE's pass."""
    section = doc["passes"]["quantize"]
    by = section["by"]
    if by not in ("name", "type"):
        raise ValueError(f'by = "{by}": expected "name" or "type"')
    out = []
    for name, typ in zip(layer_names, layer_types):
        entry = section.get(name if by == "name" else typ, section.get("default"))
        if typ not in QUANTIZABLE or entry is None:
            out.append(None)
            continue
        cfg = entry["config"]
        if na(cfg.get("name")) is None or cfg.get("bypass", False) or entry.get("bypass", False):
            out.append(None)
            continue
        fmt = cfg["name"]
        roles = ("data_in",) if typ == "relu" else ROLES
        q = {}
        for r in roles:
            params = {k[len(r) + 1:]: v for k, v in cfg.items() if k.startswith(r + "_")}
            q[r] = tensor_quantizer(fmt, params, r, typ)
        out.append(q)
    return out


# ------------------------------------------------------------ model

def load_model(path):
    meta, sd = st_peer.read_safetensors(path)
    model = st_peer.train_torch.build(meta["arch"], int(meta["in_features"]), int(meta["classes"]))
    model.load_state_dict(sd, strict=True)
    model.eval()
    layers = list(model.seq_blocks)
    types = []
    for m in layers:
        if isinstance(m, torch.nn.Linear):
            types.append("linear")
        elif isinstance(m, torch.nn.ReLU):
            types.append("relu")
        elif isinstance(m, torch.nn.BatchNorm1d):
            types.append("batch_norm1d")
        else:
            raise ValueError(f"unsupported module {m}")
    names = [f"seq_blocks_{i}" for i in range(len(layers))]
    return meta, layers, names, types


def linear_ordered(x, w, b):
    """qsearch's order: acc = b; acc += x[:, k] * w[:, k] for k = 0..K-1 (float32)."""
    n, out = x.shape[0], w.shape[0]
    acc = b.expand(n, out).clone() if b is not None else torch.zeros(n, out, dtype=F32)
    wt = w.t().contiguous()
    for k in range(w.shape[1]):
        acc = acc + x[:, k:k + 1] * wt[k]
    return acc


def bn_ordered(x, m):
    eps = torch.tensor(m.eps, dtype=F32)
    scale = m.weight / torch.sqrt(m.running_var + eps)
    shift = m.bias - m.running_mean * scale
    return x * scale + shift


def bitwise_equal(a, b):
    a, b = a.numpy(), b.numpy()
    return torch.from_numpy((a.view(np.uint32) == b.view(np.uint32)) | (np.isnan(a) & np.isnan(b)))


def lockstep(layers, types, quant, x):
    """Runs the mase and exact forwards side by side. Returns both logits, the
    per-logit error bound of mase against exact, and per-sample flags: a
    quantizer boundary flip, an unexplained quantizer difference.

    The bound e is a running first-order bound on |mase - exact| (Higham,
    Accuracy and Stability of Numerical Algorithms, 2nd ed., 3.1 and 3.5):
      linear       e' = |W| e + 2 gamma_{K+1} (|W| (|x| + e) + |b|),
                   gamma_n = n u / (1 - n u), u = 2^-24: two float32 dot
                   products of the same K + 1 terms in any order differ by at
                   most 2 gamma_{K+1} times the sum of the terms' magnitudes;
      batch_norm   e' = |a| e + 8 u (|x| |a| + |beta| + |mean a|), a = gamma /
                   sqrt(var + eps): torch forms a and the shift with a few more
                   roundings than qsearch (1/sqrt then * gamma);
      relu         e' = e (1-Lipschitz);
      quantizer    e' = 0 where both outputs are bitwise equal (the common
                   case: the same value on both sides, so nothing propagates);
                   where they differ and the inputs were within e, the sample
                   had a boundary flip (inputs a rounding error apart on both
                   sides of a rounding boundary): its logits are not bounded
                   and it is reported; where the inputs were not within e the
                   difference is unexplained (a semantic difference).
    """
    n = x.shape[0]
    xm, xe = x, x
    e = torch.zeros(x.shape, dtype=torch.float64)
    flip = torch.zeros(n, dtype=torch.bool)
    bad = torch.zeros(n, dtype=torch.bool)
    for m, typ, q in zip(layers, types, quant):
        if q is not None and q.get("data_in") is not None:
            qm, qe = q["data_in"][0](xm), q["data_in"][1](xe)
            same = bitwise_equal(qm, qe)
            near = (xm.double() - xe.double()).abs() <= e
            flip |= (~same & near).any(1) & ~bad
            bad |= (~same & ~near).any(1) & ~flip
            e = torch.where(same, torch.zeros_like(e), e)
            xm, xe = qm, qe
        if typ == "linear":
            w, b = m.weight.detach(), m.bias.detach()
            wm, bm, we, be = w, b, w, b
            if q is not None and q["weight"] is not None:
                wm, we = q["weight"][0](w), q["weight"][1](w)
            if q is not None and q["bias"] is not None:
                bm, be = q["bias"][0](b), q["bias"][1](b)
            wa, ba = we.abs().double(), be.abs().double()
            k1 = w.shape[1] + 1
            gamma = k1 * U / (1 - k1 * U)
            xa = xe.abs().double() + e
            # + the scale factors' last-bit differences (binary/ternary), exactly
            dw, db = (wm.double() - we.double()).abs(), (bm.double() - be.double()).abs()
            e = (e @ wa.t() + 2 * gamma * (xa @ (wa + dw).t() + ba + db)
                 + xa @ dw.t() + db)
            xm, xe = F.linear(xm, wm, bm), linear_ordered(xe, we, be)
        elif typ == "batch_norm1d":
            eps = torch.tensor(m.eps, dtype=F32)
            a = (m.weight / torch.sqrt(m.running_var + eps)).double().abs()
            beta = m.bias.double().abs()
            mean_a = (m.running_mean.double() * a).abs()
            e = e * a + 8 * U * ((xe.abs().double() + e) * a + beta + mean_a)
            xm, xe = m(xm), bn_ordered(xe, m)
        else:
            xm, xe = torch.relu(xm), torch.relu(xe)
    return xm, xe, e, flip, bad


# ------------------------------------------------------------ MASE's own code

MASE = {}


def load_mase(root):
    """MASE's quantized functional linears, quantized ReLU modules and config
    parser from a checkout (imported as bare packages: chop/__init__ pulls in
    unrelated dependencies)."""
    import types
    src = os.path.join(root, "src") if os.path.isdir(os.path.join(root, "src", "chop")) else root
    sys.path.insert(0, src)
    for p in ("chop", "chop.nn", "chop.nn.quantized", "chop.nn.quantized.modules", "chop.passes",
              "chop.passes.graph", "chop.passes.graph.transforms",
              "chop.passes.graph.transforms.quantize",
              "chop.passes.graph.transforms.quantize.quant_parsers"):
        m = types.ModuleType(p)
        m.__path__ = [os.path.join(src, *p.split("."))]
        sys.modules[p] = m
    import importlib
    MASE["linear"] = importlib.import_module("chop.nn.quantized.functional.linear")
    MASE["relu"] = importlib.import_module("chop.nn.quantized.modules.relu")
    MASE["parse"] = importlib.import_module(
        "chop.passes.graph.transforms.quantize.quant_parsers.parse_quant_config")


MASE_LINEAR = {"integer": "linearInteger", "minifloat_denorm": "linearMinifloatDenorm",
               "minifloat_ieee": "linearMinifloatIEEE", "log": "linearLog",
               "block_fp": "linearBlockFP", "binary": "linearBinary", "ternary": "linearTernary"}
MASE_RELU = {"integer": "ReLUInteger", "minifloat_denorm": "ReLUMinifloatDenorm",
             "minifloat_ieee": "ReLUMinifloatIEEE", "log": "ReLULog", "block_fp": "ReLUBlockFP",
             "binary": "ReLUBinary", "ternary": "ReLUTernary"}
QSEARCH_ONLY = ("_round", "_overflow", "_is_signed", "_skip_first_dim")


def mase_forward(layers, names, types, doc, x):
    """The forward exactly as MASE's quantize pass + modules run it, using
    MASE's code: config resolution as quantize.py (get_config), "NA" -> None
    as chop.tools.config_load, parse_node_config, then linearX / ReLUX."""
    def none(d):
        return {k: none(v) for k, v in d.items()} if isinstance(d, dict) else \
            (None if d == "NA" else d)
    section = none(doc["passes"]["quantize"])
    by = section.pop("by")
    for m, name, typ in zip(layers, names, types):
        if typ in QUANTIZABLE:
            key = name if by == "name" else typ
            cfg = section[key]["config"] if key in section else section["default"]["config"]
            if cfg["name"] is not None:
                if any(k.endswith(QSEARCH_ONLY) for k in cfg):
                    raise NotImplementedError("qsearch-only parameters (ap_fixed modes, "
                                              "is_signed, skip_first_dim): not a MASE config")
                cfg = MASE["parse"].parse_node_config(dict(cfg), typ)
                if typ == "linear":
                    if cfg.get("bypass", False):
                        x = F.linear(x, m.weight, m.bias)
                    else:
                        fn = getattr(MASE["linear"], MASE_LINEAR[cfg["name"]])
                        x = fn(x, m.weight, m.bias, cfg)
                else:
                    x = getattr(MASE["relu"], MASE_RELU[cfg["name"]])(config=cfg)(x)
                continue
        x = m(x)
    return x


def check_case(model_path, toml_path, logits_path, x, y):
    meta, layers, names, types = load_model(model_path)
    with open(toml_path, "rb") as f:
        doc = tomllib.load(f)
    quant = resolve(doc, names, types)
    theirs = torch.from_numpy(np.load(logits_path).astype(np.float32))
    if theirs.shape != (x.shape[0], int(meta["classes"])):
        raise ValueError(f"{logits_path}: shape {tuple(theirs.shape)}, expected "
                         f"({x.shape[0]}, {meta['classes']})")
    with torch.no_grad():
        mase, exact, tol, flipped, bad_tap = lockstep(layers, types, quant, x)
    r = {"model": model_path, "config": toml_path, "arch": meta["arch"],
         "samples": int(x.shape[0]),
         "quantized": [f"{n}:{'+'.join(k for k, v in q.items() if v is not None) or 'none'}"
                       for n, q in zip(names, quant) if q is not None]}
    same = bitwise_equal(exact, theirs)
    r["exact_bitwise_equal"] = bool(same.all())
    r["exact_differing_logits"] = int((~same).sum())
    ok = bool(same.all())
    diff = (mase.double() - theirs.double()).abs()
    fin = torch.isfinite(diff) & ~flipped.unsqueeze(1)
    big = fin & (theirs.abs() > 1e-3)
    r["max_abs_diff"] = float(diff[fin].max()) if fin.any() else 0.0
    r["max_rel_diff"] = float((diff / theirs.double().abs())[big].max()) if big.any() else 0.0
    r["max_tolerance"] = float(tol[fin].max()) if fin.any() else 0.0
    r["max_diff_over_tolerance"] = float((diff[fin] / tol[fin].clamp_min(1e-300)).max()) \
        if fin.any() else 0.0
    out_of_tol = ((diff > tol) | (torch.isnan(mase) != torch.isnan(theirs))).any(1)
    r["samples_beyond_tolerance"] = int(out_of_tol.sum())
    r["samples_with_boundary_flip"] = int(flipped.sum())
    if flipped.any():
        r["max_abs_diff_flipped"] = float(diff[flipped].max())
    unexplained = (out_of_tol | bad_tap) & ~flipped
    r["samples_unexplained"] = int(unexplained.sum())
    ok &= not bool(unexplained.any())
    pm, pt = mase.argmax(1), theirs.argmax(1)
    differ = pm != pt
    tie = torch.zeros_like(differ)
    if theirs.shape[1] > 1:
        top2 = theirs.topk(2, dim=1).values.double()
        tie = (top2[:, 0] - top2[:, 1] <= 2 * tol.max(1).values) & ~out_of_tol
    pred_unexplained = differ & ~(tie | flipped)
    r["predictions_differing"] = int(differ.sum())
    r["predictions_differing_unexplained"] = int(pred_unexplained.sum())
    ok &= not bool(pred_unexplained.any())
    if MASE:
        try:
            with torch.no_grad():
                code = mase_forward(layers, names, types, doc, x)
            eq = bitwise_equal(code, mase)
            r["mase_code_bitwise_equal"] = bool(eq.all())
            ok &= bool(eq.all())
        except NotImplementedError as e:
            r["mase_code"] = f"skipped: {e}"
        except Exception as e:  # MASE's own code cannot run this case
            r["mase_code"] = f"MASE raises {type(e).__name__}: {e}"
    if y is not None:
        r["accuracy_peer"] = float((pm == y).double().mean())
        r["accuracy_qsearch_logits"] = float((pt == y).double().mean())
    r["ok"] = bool(ok)
    return r


def describe(r):
    s = (f"{'ok  ' if r['ok'] else 'FAIL'} {r['arch']} {os.path.basename(r['config'])}: "
         f"max |diff| {r['max_abs_diff']:.3g} (rel {r['max_rel_diff']:.3g}, "
         f"{r['max_diff_over_tolerance']:.3g} x bound), beyond bound "
         f"{r['samples_beyond_tolerance']} (flips {r['samples_with_boundary_flip']}, "
         f"unexplained {r['samples_unexplained']}), predictions differing "
         f"{r['predictions_differing']} (unexplained {r['predictions_differing_unexplained']})")
    if "exact_bitwise_equal" in r:
        s += f", exact order bitwise equal: {r['exact_bitwise_equal']}"
        if not r["exact_bitwise_equal"]:
            s += f" ({r['exact_differing_logits']} logits differ)"
    if "mase_code_bitwise_equal" in r:
        s += f", MASE's code bitwise equal: {r['mase_code_bitwise_equal']}"
    elif "mase_code" in r:
        s += f", MASE's code: {r['mase_code']}"
    if "accuracy_peer" in r:
        s += f", accuracy peer {r['accuracy_peer']:.4f} qsearch {r['accuracy_qsearch_logits']:.4f}"
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--x", required=True, help="inputs [n][features] float32 .npy")
    ap.add_argument("--y", help="labels [n] .npy (adds accuracies)")
    ap.add_argument("--case", nargs=3, action="append", metavar=("MODEL", "TOML", "LOGITS"),
                    required=True)
    ap.add_argument("--json", action="store_true", help="one JSON document on stdout")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mase", metavar="DIR",
                    help="a MASE checkout: also run MASE's own modules and require its logits to "
                         "equal the peer's mase forward bit for bit")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.mase:
        load_mase(a.mase)
    x = torch.from_numpy(np.load(a.x).astype(np.float32))
    y = torch.from_numpy(np.load(a.y).astype(np.int64)) if a.y else None
    results, passed, failed = [], 0, 0
    for model, toml, logits in a.case:
        try:
            r = check_case(model, toml, logits, x, y)
            print("  " + describe(r), file=sys.stderr)
        except Exception as e:  # a bad case is a failed check, not a crash
            r = {"model": model, "config": toml, "ok": False,
                 "error": f"{type(e).__name__}: {e}"}
            print(f"  FAIL {os.path.basename(model)} {os.path.basename(toml)}: {r['error']}",
                  file=sys.stderr)
        results.append(r)
        passed += r["ok"]
        failed += not r["ok"]
    if a.json:
        print(json.dumps({"cases": results, "passed": passed, "failed": failed}, indent=1))
    else:
        print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
