#!/usr/bin/python3
"""Golden vectors for qsearch's number formats, computed with PyTorch.

Regenerate (from the repository root, with Debian's python3-torch):

    /usr/bin/python3 tests/gen_format_golden.py

Optional cross-check, given a MASE checkout (not shipped with qsearch):

    /usr/bin/python3 tests/gen_format_golden.py --check-mase /path/to/mase

also runs MASE's own quantizer functions on every case MASE supports and
reports any case whose output differs bit-wise from the goldens.

This writes tests/golden/format/<format>.txt (one line per case: the format
name, its parameters with MASE's names, and the tensor shape) and
tests/golden/format/<format>.bin (for each case in manifest order: the input
tensor, unless the line ends with input=previous, then the expected output
tensor; float32 little-endian, row-major).
tests/test_format.c reads them and compares qsearch's quantizers bit for bit
(any NaN equals any NaN).

The quantizers below are written for this project following the semantics of
MASE's PyTorch quantizers (DeepWok/mase, src/chop/nn/quantizers: integer.py,
minifloat.py, log.py, block_fp.py, binary.py, ternary.py, utils.py): the same
float32 tensor operations in the same order. The ap_fixed rounding and
overflow modes (which MASE does not have) follow Xilinx's ap_fixed definitions
and are computed exactly in float64. Inputs are deterministic (fixed seed).
"""
import math
import os
import struct
import sys

import numpy as np
import torch

F32 = torch.float32
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "format")
FLT_MAX = float(np.finfo(np.float32).max)
INF = float("inf")
NAN = float("nan")
SPECIALS = [0.0, -0.0, INF, -INF, NAN, 1e-45, -1e-45, 1.17549435e-38, -3e-39, 1e-40,
            FLT_MAX, -FLT_MAX, 1e-9, -1e-9, 5e-9, -5e-9, 1e-8, -1.00001e-8, 2e-8]

rng = np.random.default_rng(20261204)


def f32(values):
    with np.errstate(over="ignore"):  # values beyond float32 become +-inf, as intended
        return np.array(values, dtype=np.float64).astype(np.float32)


def neighbours(v, k=1):
    """v and its k float32 neighbours on each side."""
    v = np.float32(v)
    out = [v]
    up, down = v, v
    for _ in range(k):
        up = np.nextafter(up, np.float32(INF))
        down = np.nextafter(down, np.float32(-INF))
        out += [up, down]
    return out


def random_scales(n, lo_exp, hi_exp):
    mag = np.exp2(rng.uniform(lo_exp, hi_exp, n))
    return mag * rng.choice([-1.0, 1.0], n)


# ---------------------------------------------------------------- integer

def int_range(w, signed):
    return (-(2 ** (w - 1)), 2 ** (w - 1) - 1) if signed else (0, 2 ** w - 1)


def q_integer_mase(x, w, f, signed):
    """MASE _integer_quantize: clamp(round(x * 2^f), min, max) / 2^f in float32."""
    lo, hi = int_range(w, signed)
    scale = 2 ** f
    return torch.clamp(torch.round(x.mul(scale)), lo, hi).div(scale)


def round_mode(xd, mode):
    """Integer rounding of the exact float64 products xd (ap_fixed names)."""
    fl = torch.floor(xd)
    half = fl + 0.5
    up, tie = xd > half, xd == half
    if mode == "TRN":
        r = fl
    elif mode == "TRN_ZERO":
        r = torch.trunc(xd)
    else:
        if mode == "RND":
            tie_up = torch.ones_like(tie)
        elif mode == "RND_ZERO":
            tie_up = fl < 0
        elif mode == "RND_INF":
            tie_up = fl >= 0
        elif mode == "RND_MIN_INF":
            tie_up = torch.zeros_like(tie)
        elif mode == "RND_CONV":
            tie_up = torch.fmod(fl, 2.0) != 0
        else:
            raise ValueError(mode)
        r = torch.where(up | (tie & tie_up), fl + 1, fl)
    return torch.where(xd == fl, fl, r)  # already an integer (also huge values, inf)


def overflow_mode(q, w, signed, mode):
    lo, hi = int_range(w, signed)
    if mode == "SAT":
        return torch.clamp(q, lo, hi)
    if mode == "SAT_SYM":
        return torch.clamp(q, -hi if signed else 0, hi)
    if mode == "SAT_ZERO":
        return torch.where((q > hi) | (q < lo), torch.zeros_like(q), q)
    if mode == "WRAP":
        m = float(2 ** w)
        t = torch.fmod(q, m)
        t = torch.where(t < 0, t + m, t)
        if signed:
            t = torch.where(t > hi, t - m, t)
        t = torch.where(q == INF, torch.full_like(q, hi), t)
        return torch.where(q == -INF, torch.full_like(q, lo), t)
    raise ValueError(mode)


def q_integer_apfixed(x, w, f, signed, rnd, ovf):
    xd = x.double() * (2.0 ** f)  # exact: float32 values times a power of two
    q = overflow_mode(round_mode(xd, rnd), w, signed, ovf) + 0.0  # -0 -> +0
    return (q * (2.0 ** -f)).to(F32)


def integer_inputs(w, f, signed):
    s = 2.0 ** -f
    lo, hi = int_range(w, signed)
    v = list(SPECIALS)
    v += [(k + 0.5) * s for k in range(-6, 6)]  # exact ties
    v += [k * s for k in (-3, -1, 1, 3)]
    for edge in (lo, hi):
        for d in (-1.5, -1, -0.5, 0, 0.5, 1, 1.5):
            v += neighbours((edge + d) * s)
    v += list(rng.normal(0, 1, 12) * s)
    v += list(rng.normal(0, 1, 12) * s * 2.0 ** (w / 2))
    v += list(rng.uniform(lo - 2, hi + 2, 12) * s)
    v += [0.3 * s, -0.3 * s, -0.7 * s, 1e30, -1e30]
    return f32(v)


def gen_integer(cases):
    fracs = lambda w: [None] + sorted({0, w - 1, w + 3, -2})
    for w in list(range(1, 17)) + [20, 24, 25, 31, 32]:
        for f in fracs(w):
            for signed in (True, False):
                ff = w // 2 if f is None else f
                x = torch.from_numpy(integer_inputs(w, ff, signed))
                y = q_integer_mase(x, w, ff, signed)
                fw = "NA" if f is None else f
                cases.append((f"integer width={w} frac_width={fw} is_signed={int(signed)}", x, y))
    modes_r = ["RND_CONV", "TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF"]
    modes_o = ["SAT", "SAT_SYM", "WRAP", "SAT_ZERO"]
    for (w, f) in [(8, 4), (5, 0), (4, 6), (1, 0), (16, 3)]:
        for signed in (True, False):
            x = torch.from_numpy(integer_inputs(w, f, signed))
            for r in modes_r:
                for o in modes_o:
                    y = q_integer_apfixed(x, w, f, signed, r, o)
                    if r == "RND_CONV" and o == "SAT":
                        y = q_integer_mase(x, w, f, signed)
                    cases.append((f"integer width={w} frac_width={f} is_signed={int(signed)} "
                                  f"round={r} overflow={o}", x, y))


# ---------------------------------------------------------------- minifloat

def default_bias(ew):
    return 2 ** (ew - 1) - 1


def is_close_0(v):
    return torch.isclose(v, torch.tensor([0.0], dtype=v.dtype))


def q_minifloat_denorm(x, w, ew, bias):
    m = w - ew - 1
    bias = default_bias(ew) if bias is None else bias
    emax, emin = 2 ** ew - 1 - bias, -bias
    sign = torch.sign(x + 1e-9)
    value = torch.abs(x)
    e = torch.clamp(torch.ceil(torch.log2(value + 1e-9)), emin, emax)
    mant = value / 2 ** e
    shift = 2 ** m
    sm = torch.clamp(torch.round(mant * shift), 0, 2 ** m - 1)
    mant = sm / shift
    c = is_close_0(value)
    return (~c) * (sign * (2 ** e) * mant) + c * x


def q_minifloat_ieee(x, w, ew, bias):
    m = w - ew - 1
    bias = default_bias(ew) if bias is None else bias
    emax, emin = 2 ** ew - 1 - bias, -bias
    shift = 2 ** m
    sign = torch.sign(x + 1e-9)
    value = torch.abs(x)
    e = torch.clamp(torch.floor(torch.log2(value + 1e-9)), emin, emax)
    mant = value / 2 ** e
    nb = torch.tensor([bias], dtype=e.dtype)
    normal = ~torch.isclose(e, -nb)
    sm = normal * torch.clamp(torch.round(mant * shift - shift), 0, shift - 1) + \
        (~normal) * torch.clamp(torch.round(mant * shift / 2), 0, shift - 1)
    mant = normal * (1.0 + sm / shift) + (~normal) * (sm / shift * 2)
    c = is_close_0(value)
    return (~c) * (sign * (2 ** e) * mant) + c * x


def minifloat_values(w, ew, bias, ieee):
    """All non-negative values of the format (as the quantizer produces them)."""
    m = w - ew - 1
    bias = default_bias(ew) if bias is None else bias
    vals = set()
    for e in range(-bias, 2 ** ew - bias):
        for k in range(2 ** m):
            if ieee:
                v = (1 + k / 2 ** m) * 2.0 ** e if e != -bias else (k / 2 ** m) * 2 * 2.0 ** e
            else:
                v = k / 2 ** m * 2.0 ** e
            vals.add(v)
    return sorted(vals)


def float_inputs(reps, lo_exp, hi_exp):
    v = list(SPECIALS)
    reps = [r for r in reps if math.isfinite(r) and r < 3e38]
    pick = reps if len(reps) <= 16 else [reps[i] for i in
                                         sorted(set(np.linspace(0, len(reps) - 1, 16).astype(int)))]
    for r in pick:
        v += neighbours(r) + [-r]
    for a, b in zip(pick, pick[1:]):
        v += neighbours((a + b) / 2)  # midpoints: ties of the mantissa rounding
    for k in range(lo_exp - 2, hi_exp + 3, max(1, (hi_exp - lo_exp) // 8)):
        v += neighbours(2.0 ** k, 2) + [-(2.0 ** k)]
        v += neighbours(2.0 ** (k + 0.5))
    v += list(random_scales(40, lo_exp - 3, hi_exp + 3))
    return f32(v)


def gen_minifloat(cases, ieee):
    name = "minifloat_ieee" if ieee else "minifloat_denorm"
    fn = q_minifloat_ieee if ieee else q_minifloat_denorm
    combos = []
    for w in range(4, 17):
        ews = {2, 3, 4, 5, min(8, w - 1)} if w <= 10 or w % 2 == 0 else {3, 5}
        for ew in sorted(ews):
            if ew < w:
                combos.append((w, ew, None))
    combos += [(8, 4, 7), (8, 4, 3), (8, 4, 0), (8, 4, -2), (6, 3, 6), (16, 8, None), (10, 8, 130),
               (3, 1, None), (2, 1, None), (12, 6, 40)]
    for (w, ew, bias) in combos:
        b = default_bias(ew) if bias is None else bias
        reps = minifloat_values(w, ew, bias, ieee) if w <= 10 else \
            [2.0 ** e * (1 + k / 8) for e in range(-b, 2 ** ew - b) for k in (0, 3, 7)]
        x = torch.from_numpy(float_inputs(reps, -b, 2 ** ew - 1 - b))
        y = fn(x, w, ew, bias)
        bs = "NA" if bias is None else bias
        cases.append((f"{name} width={w} exponent_width={ew} exponent_bias={bs}", x, y))


# ---------------------------------------------------------------- log

def q_log(x, w, bias):
    eb = w - 1
    bias = default_bias(eb) if bias is None else bias
    emax, emin = 2 ** eb - 1 - bias, -bias
    min_pos = 2 ** emin
    sign = torch.sign(x + min_pos * 0.1)
    value = torch.abs(x) + min_pos * 0.1
    e = torch.clamp(torch.round(torch.log2(value)), emin, emax)
    return sign * (2 ** e)


def gen_log(cases):
    combos = [(w, None) for w in range(2, 10)] + [(4, 0), (4, 5), (5, -3), (6, 20), (8, 100)]
    for (w, bias) in combos:
        b = default_bias(w - 1) if bias is None else bias
        emin, emax = -b, 2 ** (w - 1) - 1 - b
        reps = [2.0 ** e for e in range(emin, emax + 1)]
        x = list(float_inputs(reps, emin, emax))
        mp = np.float32(2.0 ** emin * 0.1)
        x += neighbours(mp) + neighbours(-mp) + neighbours(-2 * mp)
        x = torch.from_numpy(f32(x))
        bs = "NA" if bias is None else bias
        cases.append((f"log width={w} exponent_bias={bs}", x, q_log(x, w, bias)))


# ---------------------------------------------------------------- block_fp

def infer_block_shape(x_shape, block):
    nd = len(x_shape)
    b = list(block[-nd:]) if len(block) >= nd else [-1] * (nd - len(block)) + list(block)
    return [xs if (bi == -1 or bi > xs) else bi for xs, bi in zip(x_shape, b)]


def block_max(x, bshape):
    """Per-element abs max of its block (blocks tile x from index 0, zero padded)."""
    pads = []
    for d, b in zip(reversed(x.shape), reversed(bshape)):
        pads += [0, (-d) % b]
    xp = torch.nn.functional.pad(x, pads)
    view = []
    for d, b in zip(xp.shape, bshape):
        view += [d // b, b]
    xb = xp.reshape(view).abs()
    red = tuple(range(1, 2 * x.ndim, 2))
    pbm = torch.amax(xb, dim=red, keepdim=True)  # propagates NaN like torch.max(dim)
    return xb, pbm, xp.shape


def q_block_fp(x, w, ew, bias, block, skip_first_dim):
    shape = list(x.shape)
    if skip_first_dim:
        bshape = [1] + infer_block_shape(shape[1:], block)
    else:
        bshape = infer_block_shape(shape, block)
    xb_abs, pbm, pshape = block_max(x, bshape)
    if torch.all(pbm == 0):
        pbm = torch.ones_like(pbm)
    else:
        pbm[pbm == 0] = pbm[pbm != 0].min()
    pads = []
    for d, b in zip(reversed(x.shape), reversed(bshape)):
        pads += [0, (-d) % b]
    xb = torch.nn.functional.pad(x, pads).reshape(xb_abs.shape)
    m = w - 1
    bias = default_bias(ew) if bias is None else bias
    emax, emin = 2 ** ew - 1 - bias, -bias
    sign = torch.sign(xb + 1e-9)
    value = torch.abs(xb) + 1e-9
    e = torch.clamp(torch.ceil(torch.log2(pbm)), emin, emax)
    mant = value / 2 ** e
    shift = 2 ** m
    mi = torch.clamp(torch.round(mant * shift), 0, 2 ** m - 1)
    msfp = sign * (2 ** e) * (mi / shift)
    msfp = msfp.reshape(pshape)[tuple(slice(0, d) for d in shape)]
    if (x.ndim == 2 and not skip_first_dim) or x.ndim == 3:
        # MASE unblocks these with F.fold, which adds into zeros: -0 -> +0
        msfp = msfp + 0.0
    c = is_close_0(x)
    return (~c) * msfp + c * x


def block_tensor(shape, kind):
    n = int(np.prod(shape))
    x = random_scales(n, -12, 6)
    if kind == "mixed":
        x[::7] = 0.0
        x[3::11] = -0.0
        x[5::13] *= 2.0 ** -20
        x[: max(1, shape[-1] // 2)] = 0.0  # a zero block at the start
        x[-1] = 1e-9
    elif kind == "ties":
        x = np.round(x * 64) / 64
    elif kind == "special":
        x[1] = INF
        x[n // 2] = NAN
    elif kind == "zeros":
        x[:] = 0.0
        x[1] = -0.0
    elif kind == "inf":
        x[2] = -INF
    return torch.from_numpy(f32(x).reshape(shape))


def gen_block_fp(cases):
    combos = [  # (shape, block_size, skip_first_dim, width, exponent_width, bias)
        ((37,), [16], False, 8, 8, None), ((37,), [8], False, 4, 8, None),
        ((37,), [64], False, 12, 8, None), ((40,), [4], False, 6, 4, None),
        ((4, 37), [16], True, 8, 8, None), ((4, 37), [1, 8], True, 5, 5, None),
        ((3, 10), [32], True, 16, 8, None), ((12, 20), [16], False, 8, 8, None),
        ((12, 20), [4, 8], False, 6, 8, None), ((12, 20), [-1, 8], False, 7, 6, 20),
        ((9, 7), [2, 3], False, 3, 3, None), ((2, 6, 10), [4, 4], True, 8, 8, None),
        ((2, 6, 10), [16], True, 6, 4, 5), ((16,), [16], False, 1, 8, None),
        ((5, 16), [16], True, 24, 8, None), ((8, 16), [1, 16], False, 8, 2, None),
    ]
    for (shape, block, skip, w, ew, bias) in combos:
        for kind in ("mixed", "ties", "special", "zeros", "inf"):
            if kind in ("zeros", "inf") and shape != (4, 37) and shape != (37,):
                continue
            x = block_tensor(shape, kind)
            y = q_block_fp(x, w, ew, bias, block, skip)
            bs = "NA" if bias is None else bias
            bl = "x".join(str(b) for b in block)
            cases.append((f"block_fp width={w} exponent_width={ew} exponent_bias={bs} "
                          f"block_size={bl} skip_first_dim={int(skip)} shape=" +
                          "x".join(str(d) for d in shape), x, y))


# ---------------------------------------------------------------- binary / ternary

def q_binary(x, bipolar):
    if bipolar:
        return torch.where(x >= 0, torch.tensor(1.0), torch.tensor(-1.0))
    alpha = x.abs().mean(dim=tuple(range(1, x.ndim)), keepdim=True)
    pos = torch.where(x > 0, 1.0, 0.0)
    return pos * alpha


def q_ternary(x, scaling):
    rows = x.reshape(x.shape[0], -1) if x.ndim >= 2 else x.reshape(1, -1)
    n = rows.shape[1]
    a = rows.abs()
    delta = (0.75 * torch.sum(a, dim=(1,)) / n).unsqueeze(1)
    truth = (a > delta).to(F32)
    alpha = ((truth * a).sum(dim=1) / truth.sum(dim=1)).unsqueeze(1)
    out = torch.where(rows > delta, 1.0, 0.0) + torch.where(rows < -delta, -1.0, 0.0)
    if scaling:
        out = out * alpha
    return out.reshape(x.shape)


def exact_tensor(shape, kind):
    """Multiples of 1/64 (sums are exact in float32 in any order, so torch's
    reduction order does not matter), plus special values."""
    n = int(np.prod(shape))
    x = rng.integers(-200, 201, n) / 64.0
    x[::5] = np.round(x[::5] / 4)  # some exact ties with the thresholds are likely
    if kind == "special":
        x[0] = -0.0
        if n > 3:
            x[3] = NAN
    elif kind == "inf":
        x[min(1, n - 1)] = INF
    elif kind == "zerorow":
        x[: shape[-1]] = 0.0
    elif kind == "const":
        x[:] = 0.75
    return torch.from_numpy(f32(x).reshape(shape))


def gen_binary_ternary(cases):
    shapes = [(1,), (16,), (37,), (4, 9), (6, 33), (3, 4, 5), (2, 64), (2, 3, 2, 2), (3, 2, 4, 4)]
    for shape in shapes:
        for kind in ("plain", "special", "inf", "zerorow", "const"):
            x = exact_tensor(shape, kind)
            sh = "x".join(str(d) for d in shape)
            for bip in (False, True):
                cases.append((f"binary bipolar={int(bip)} shape={sh}", x, q_binary(x, bip)))
            for sc in (False, True):
                cases.append((f"ternary scaling_factor={int(sc)} shape={sh}", x, q_ternary(x, sc)))


# ---------------------------------------------------------------- output

def write(name, cases):
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, name + ".txt"), "w") as mf, \
            open(os.path.join(OUT_DIR, name + ".bin"), "wb") as bf:
        mf.write(f"# {name} goldens: written by tests/gen_format_golden.py (torch {torch.__version__});"
                 " per line: format, parameters, shape; .bin holds input then output per case\n")
        prev = None
        for spec, x, y in cases:
            assert x.dtype == F32 and y.dtype == F32 and x.shape == y.shape, spec
            if "shape=" not in spec:
                spec += " shape=" + "x".join(str(d) for d in x.shape)
            xb = x.contiguous().numpy().astype("<f4").tobytes()
            if xb == prev:
                spec += " input=previous"  # same input as the case before: stored once
            mf.write(spec + "\n")
            if xb != prev:
                bf.write(xb)
            bf.write(y.contiguous().numpy().astype("<f4").tobytes())
            prev = xb
    return len(cases)


def load_mase(root):
    """MASE's quantizer modules from a checkout at root, imported as a bare
    package (its __init__ pulls in unrelated dependencies)."""
    import importlib
    import types
    qdir = os.path.join(root, "src", "chop", "nn", "quantizers")
    pkg = types.ModuleType("mase_q")
    pkg.__path__ = [qdir]
    sys.modules["mase_q"] = pkg
    return {m: importlib.import_module("mase_q." + m)
            for m in ("integer", "minifloat", "log", "block_fp", "binary", "ternary")}


def mase_reference(mq, name, kv, x):
    """MASE's own output for one case, or None where MASE has no such case."""
    na = lambda v: None if v in (None, "NA") else int(v)
    if name == "integer":
        if kv.get("round", "RND_CONV") != "RND_CONV" or kv.get("overflow", "SAT") != "SAT":
            return None  # ap_fixed modes are not in MASE
        return mq["integer"]._integer_quantize(x, int(kv["width"]), na(kv["frac_width"]),
                                               kv["is_signed"] == "1")
    if name in ("minifloat_denorm", "minifloat_ieee"):
        fn = getattr(mq["minifloat"], "_" + name + "_quantize")
        return fn(x, int(kv["width"]), int(kv["exponent_width"]), na(kv["exponent_bias"]))
    if name == "log":
        return mq["log"]._log_quantize(x, int(kv["width"]), na(kv["exponent_bias"]))
    if name == "block_fp":
        bs = [int(v) for v in kv["block_size"].split("x")]
        return mq["block_fp"]._block_fp_quantize(x, int(kv["width"]), int(kv["exponent_width"]),
                                                 na(kv["exponent_bias"]), bs,
                                                 kv["skip_first_dim"] == "1")
    if name == "binary":
        try:
            return mq["binary"].binary_quantizer(x, False, kv["bipolar"] == "1")
        except (IndexError, RuntimeError):
            return None  # MASE versions before its 2026 fix need 4-D tensors
    if name == "ternary":
        if x.ndim != 4:
            return None  # MASE's ternary ops expand to 4 dims
        return mq["ternary"].ternary_quantizer(x, scaling_factor=kv["scaling_factor"] == "1")
    return None


def check_against_mase(root, groups):
    mq = load_mase(root)
    checked = bad = 0
    for cases in groups.values():
        for spec, x, y in cases:
            words = spec.split()
            kv = dict(w.split("=", 1) for w in words[1:])
            ref = mase_reference(mq, words[0], kv, x.clone())
            if ref is None:
                continue
            checked += 1
            a, b = ref.detach().numpy().ravel(), y.numpy().ravel()
            same = (a.view(np.uint32) == b.view(np.uint32)) | (np.isnan(a) & np.isnan(b))
            if not same.all():
                bad += 1
                i = int(np.nonzero(~same)[0][0])
                print(f"MASE differs: {spec}: [{i}] in {x.numpy().ravel()[i]!r} "
                      f"MASE {a[i]!r} ours {b[i]!r}", file=sys.stderr)
    print(f"checked {checked} cases against MASE's code at {root}: {bad} differ",
          file=sys.stderr)
    return bad == 0


def main():
    torch.set_num_threads(1)
    groups = {}
    groups["integer"] = []
    gen_integer(groups["integer"])
    groups["minifloat_denorm"] = []
    gen_minifloat(groups["minifloat_denorm"], False)
    groups["minifloat_ieee"] = []
    gen_minifloat(groups["minifloat_ieee"], True)
    groups["log"] = []
    gen_log(groups["log"])
    groups["block_fp"] = []
    gen_block_fp(groups["block_fp"])
    groups["binary_ternary"] = []
    gen_binary_ternary(groups["binary_ternary"])
    total = 0
    for name, cases in groups.items():
        total += write(name, cases)
    size = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"wrote {total} cases, {size} bytes, to {OUT_DIR}", file=sys.stderr)
    if len(sys.argv) == 3 and sys.argv[1] == "--check-mase":
        sys.exit(0 if check_against_mase(sys.argv[2], groups) else 1)


if __name__ == "__main__":
    main()
