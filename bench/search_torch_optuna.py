#!/usr/bin/python3
"""Search throughput: `qsearch search` against a PyTorch + Optuna loop doing the
same trials (issue 5, "Measure": trials per second for jsc-s on the whole
validation split). One run of each, then the ratio.

    /usr/bin/python3 bench/search_torch_optuna.py --qsearch build/qsearch \\
        --model /tmp/cmp-jsc-s.safetensors [--config configs/search-jsc-s.toml] \\
        [--data letter] [--trials 200] [--seed 0] [--threads 1] [--check 20]

qsearch: `qsearch search --config C --model M --sampler tpe --trials N --jobs 1`
on a new study; its rate is trials / the search loop's wall time (best.json
`wall_s`), and the whole command's wall time is reported too.

PyTorch + Optuna: the qsearch model loaded in torch (tests/safetensors_peer.py),
the validation split exported by `qsearch data export`, Optuna 3.1's
TPESampler(seed) over the same flattened parameters
(`seq_blocks_K/config/weight_width`, ...) and each trial quantizes as MASE's
LinearInteger does (data_in, weight and bias with MASE's integer quantizer from
tests/gen_format_golden.py, frac_width "NA" = width // 2), runs the whole
validation split and scores MASE's scaled sum of the config's metrics
(accuracy and average_bitwidth only). Its rate is trials / study.optimize's
wall time. Optuna may propose a configuration twice and re-evaluates it;
qsearch never evaluates one twice (it tells the sampler the repeat and asks
again): per-trial work is the same.

--check K re-evaluates qsearch's first K trials in torch and reports how many
accuracies differ (float summation order can flip a rare prediction), so the
two loops are seen to do the same work.
"""
import argparse
import csv
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


golden = _load("gen_format_golden", os.path.join(HERE, "..", "tests", "gen_format_golden.py"))
st_peer = _load("safetensors_peer", os.path.join(HERE, "..", "tests", "safetensors_peer.py"))

ROLES = ("data_in", "weight", "bias")


def na(v):
    return None if isinstance(v, str) and v in ("NA", "None") else v


def read_space(doc, names, types):
    """MASE's by-name integer space flattened as qsearch does: a list of
    (flattened name, layer index, key, choices) for keys with more than one
    choice, and the fixed values per layer {layer: {key: value}}."""
    ss = doc["search"]["search_space"]
    if ss.get("setup", {}).get("by", "name") != "name":
        sys.exit("only by = \"name\" spaces are supported here")
    seeds = ss["seed"]
    searched, fixed = [], {}
    for i, (name, typ) in enumerate(zip(names, types)):
        if typ != "linear":
            continue  # relu layers take default: NA (float) in the jsc-s config
        cfg = dict(seeds.get("default", {}).get("config", {}))
        cfg.update(seeds.get(name, {}).get("config", {}))
        if na(cfg.get("name", ["NA"])[0]) is None:
            continue
        if cfg["name"] != ["integer"]:
            sys.exit(f"{name}: only integer is supported here")
        fixed[i] = {}
        for key, choices in cfg.items():
            if key == "name":
                continue
            if len(choices) > 1:
                searched.append((f"{name}/config/{key}", i, key, choices))
            else:
                fixed[i][key] = choices[0]
    return searched, fixed


def load_model(path):
    meta, sd = st_peer.read_safetensors(path)
    model = st_peer.train_torch.build(meta["arch"], int(meta["in_features"]), int(meta["classes"]))
    model.load_state_dict(sd, strict=True)
    model.eval()
    layers = list(model.seq_blocks)
    types = ["linear" if isinstance(m, torch.nn.Linear) else
             "relu" if isinstance(m, torch.nn.ReLU) else "bn" for m in layers]
    return meta, layers, [f"seq_blocks_{i}" for i in range(len(layers))], types


def quantized_forward(layers, types, per_layer, x):
    """MASE's LinearInteger: F.linear(q(x), q(W), q(b)); other layers as float."""
    for i, (m, typ) in enumerate(zip(layers, types)):
        c = per_layer.get(i)
        if typ == "linear" and c is not None:
            q = {}
            for r in ROLES:
                w = int(c[f"{r}_width"])
                f = na(c.get(f"{r}_frac_width"))
                q[r] = (w, w // 2 if f is None else int(f))
            x = golden.q_integer_mase(x, *q["data_in"], True)
            wq = golden.q_integer_mase(m.weight, *q["weight"], True)
            bq = golden.q_integer_mase(m.bias, *q["bias"], True)
            x = F.linear(x, wq, bq)
        else:
            x = m(x)
    return x


def run_qsearch(a, tmp):
    out = os.path.join(tmp, "qsearch")
    cmd = [a.qsearch, "search", "--config", a.config, "--model", a.model, "--sampler", "tpe",
           "--trials", str(a.trials), "--seed", str(a.seed), "--jobs", "1", "-o", out]
    if a.data:
        cmd += ["--data", a.data]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode:
        sys.exit(f"qsearch search failed ({p.returncode}):\n{p.stderr}")
    best = json.load(open(os.path.join(out, "best.json")))
    trials = list(csv.DictReader(open(os.path.join(out, "trials.csv"))))
    return best, trials, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qsearch", default="build/qsearch")
    ap.add_argument("--model", required=True)
    ap.add_argument("--config", default=os.path.join(HERE, "..", "configs", "search-jsc-s.toml"))
    ap.add_argument("--data", default=None, help="DATA spec (default: the model's dataset)")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (qsearch runs --jobs 1)")
    ap.add_argument("--check", type=int, default=20)
    a = ap.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    torch.set_num_threads(a.threads)
    doc = tomllib.load(open(a.config, "rb"))
    metrics = doc["search"]["strategy"]["metrics"]
    scale = {k: float(v.get("scale", 1.0)) for k, v in metrics.items()}
    if set(scale) - {"accuracy", "average_bitwidth"}:
        sys.exit("only accuracy and average_bitwidth metrics are supported here")
    maximize = doc["search"]["strategy"].get("setup", {}).get("direction", "maximize") == "maximize"

    meta, layers, names, types = load_model(a.model)
    data = a.data or meta.get("dataset", "letter")
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([a.qsearch, "data", "export", data, "-o", os.path.join(tmp, "npy")],
                           capture_output=True, text=True)
        if p.returncode:
            sys.exit(f"qsearch data export failed:\n{p.stderr}")
        x = torch.from_numpy(np.load(os.path.join(tmp, "npy", "val_x.npy")))
        y = torch.from_numpy(np.load(os.path.join(tmp, "npy", "val_y.npy")).astype(np.int64))
        a.data = data
        best, qtrials, q_wall = run_qsearch(a, tmp)

    searched, fixed = read_space(doc, names, types)
    macs = {i: layers[i].in_features * layers[i].out_features for i in fixed}

    def score(per_layer):
        with torch.no_grad():
            logits = quantized_forward(layers, types, per_layer, x)
        acc = (logits.argmax(1) == y).double().mean().item()
        avg = sum(macs[i] * int(per_layer[i]["weight_width"]) for i in fixed) / sum(macs.values())
        return acc, scale.get("accuracy", 0) * acc + scale.get("average_bitwidth", 0) * avg

    def objective(trial):
        per_layer = {i: dict(v) for i, v in fixed.items()}
        for name, i, key, choices in searched:
            per_layer[i][key] = trial.suggest_categorical(name, choices)
        return score(per_layer)[1]

    study = optuna.create_study(direction="maximize" if maximize else "minimize",
                                sampler=optuna.samplers.TPESampler(seed=a.seed))
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=a.trials)
    t_wall = time.perf_counter() - t0

    # where the loop's time goes: the torch evaluations alone, same configurations
    t0 = time.perf_counter()
    for tr in study.trials:
        per_layer = {i: dict(v) for i, v in fixed.items()}
        for name, i, key, _ in searched:
            per_layer[i][key] = tr.params[name]
        score(per_layer)
    t_eval = time.perf_counter() - t0

    # the same work: qsearch's first trials re-scored in torch
    diff, worst = 0, 0.0
    for row in qtrials[: a.check]:
        per_layer = {i: dict(v) for i, v in fixed.items()}
        for name, i, key, _ in searched:
            per_layer[i][key] = int(row[name])
        acc, _ = score(per_layer)
        d = abs(acc - float(row["accuracy"]))
        diff += d > 1e-9  # trials.csv has 10 significant digits
        worst = max(worst, d)

    n_q = best["trials"]["total"]
    q_rate = n_q / best["wall_s"]
    t_rate = a.trials / t_wall
    print(f"jsc-s, {len(searched)} searched parameters, whole validation split ({x.shape[0]} samples), "
          f"TPE seed {a.seed}, {a.trials} trials, 1 thread each")
    print(f"qsearch search:   {n_q} trials, search loop {best['wall_s']:.3f} s = {q_rate:.1f} trials/s "
          f"(whole command {q_wall:.2f} s incl. loading, float baseline, test re-evaluation)")
    print(f"PyTorch + Optuna: {a.trials} trials, study.optimize {t_wall:.3f} s = {t_rate:.1f} trials/s "
          f"(torch {torch.__version__}, optuna {optuna.__version__}, {torch.get_num_threads()} thread(s))")
    print(f"                  of which torch evaluation {t_eval:.3f} s ({1e3 * t_eval / a.trials:.2f} ms/trial), "
          f"Optuna's sampler and bookkeeping {t_wall - t_eval:.3f} s")
    print(f"ratio qsearch / (PyTorch + Optuna): {q_rate / t_rate:.1f}x trials per second")
    print(f"check: {min(a.check, len(qtrials))} qsearch trials re-scored in torch: {diff} accuracies differ "
          f"(largest difference {worst:.2e}; float summation order can flip a rare prediction)")
    print(f"best objective: qsearch {best['best'][0]['objectives'][0]:.6f}, optuna {study.best_value:.6f}")


if __name__ == "__main__":
    main()
