#!/usr/bin/python3
"""Peer check of qsearch's samplers against Optuna (Debian's python3-optuna 3.1).

Given an objective table (CSV: one column per parameter holding the choice
index, then a column `value`, or several `value0`, `value1`, ... for several
objectives; one row per configuration, e.g. from an exhaustive search), runs
Optuna's samplers for N trials over R seeds on the lookup objective and prints
the best-so-far curve (one objective) or the hypervolume of the trials so far
against --ref (several), median and quartiles over seeds per trial count, as
CSV on stdout:

    impl,sampler,trial,median,q1,q3

bench/sampler_curve (C) prints the same for qsearch's samplers, so the curves
can be compared side by side (bench/sampler_peer.sh runs both).

    /usr/bin/python3 bench/optuna_peer.py --make-table T.csv [--objectives 2]
    /usr/bin/python3 bench/optuna_peer.py --table T.csv --samplers tpe,random,nsgaii \
        --trials 100 --repeats 20 --direction maximize

Every ask counts as a trial, duplicates included (Optuna re-evaluates them).
"""
import argparse
import csv
import math
import sys
import warnings

import numpy as np


def make_table(path, n_objectives=1):
    """Synthetic table shaped like jsc-toy's space: 3 linear layers, each with
    data_in_width {4,6,8,16} x weight_width {2,3,4,6,8} x bias_width {8,16}
    (64,000 configurations). value = accuracy-like term minus 0.2 * average
    weight bit width / 32, maximised; a deterministic pseudo-noise term makes
    the optimum not separable. With 2 objectives: value0 = the accuracy-like
    term (maximise), value1 = the average weight bit width (minimise)."""
    din = [4, 6, 8, 16]
    ww = [2, 3, 4, 6, 8]
    bw = [8, 16]
    macs = [16 * 8, 8 * 8, 8 * 26]
    sens = [0.9, 0.5, 1.2]  # how much each layer suffers from low precision
    names = []
    for layer in (2, 5, 8):
        for p in ("data_in_width", "weight_width", "bias_width"):
            names.append(f"seq_blocks_{layer}/config/{p}")
    rng = np.random.RandomState(1234)
    noise = rng.normal(0, 0.004, size=(4 * 5 * 2,) * 3)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names + (["value"] if n_objectives == 1 else ["value0", "value1"]))
        for i0 in range(40):
            for i1 in range(40):
                for i2 in range(40):
                    cfg = []
                    acc = 0.72
                    bits = 0.0
                    for layer, idx in enumerate((i0, i1, i2)):
                        d, wi, b = idx // 10, (idx // 2) % 5, idx % 2
                        cfg += [d, wi, b]
                        acc -= sens[layer] * (0.25 * 2.0 ** (-(ww[wi] - 1)) +
                                              0.15 * 2.0 ** (-(din[d] - 3)))
                        acc -= 0.002 * (bw[b] == 8)
                        bits += macs[layer] * ww[wi]
                    # interaction: adjacent layers with very different widths lose a bit
                    acc -= 0.01 * abs(ww[(i0 // 2) % 5] - ww[(i1 // 2) % 5]) / 6
                    acc += noise[i0, i1, i2]
                    avg_bw = bits / sum(macs)
                    if n_objectives == 1:
                        w.writerow(cfg + ["%.9g" % (acc - 0.2 * avg_bw / 32)])
                    else:
                        w.writerow(cfg + ["%.9g" % acc, "%.9g" % avg_bw])


def read_table(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        m = sum(h.startswith("value") for h in header)
        if m == 0 or any(h.startswith("value") for h in header[:-m]):
            sys.exit(f"{path}:1: expected parameter columns, then value columns")
        names = header[:-m]
        table = {}
        n_choices = [0] * len(names)
        for lineno, row in enumerate(r, start=2):
            if len(row) != len(header):
                sys.exit(f"{path}:{lineno}: {len(row)} fields, expected {len(header)}")
            try:
                key = tuple(int(x) for x in row[:-m])
                # an empty value: that configuration has no objective (pruned,
                # failed or infeasible in qsearch compare's table.csv)
                table[key] = [float(x) if x != "" else math.nan for x in row[-m:]]
            except ValueError as e:
                sys.exit(f"{path}:{lineno}: {e}")
            for i, k in enumerate(key):
                n_choices[i] = max(n_choices[i], k + 1)
    return names, n_choices, m, table


def hypervolume(points, ref, signs):
    """Hypervolume of points (normalised to minimise by signs) inside ref."""
    from optuna._hypervolume import WFG

    p = np.asarray(points) * signs
    r = np.asarray(ref, dtype=float) * signs
    p = p[np.all(p < r, axis=1)]
    return float(WFG().compute(p, r)) if len(p) else 0.0


def quartiles(x):
    return np.percentile(x, 50), np.percentile(x, 25), np.percentile(x, 75)


def quantile_inf(x, q):
    """Linear-interpolation quantile (numpy's default) where never = inf:
    inf once it touches an inf (numpy gives nan for inf - inf); as
    qs_compare_quantile in qsearch compare."""
    x = sorted(x)
    pos = q * (len(x) - 1)
    lo = int(math.floor(pos))
    if lo + 1 >= len(x):
        return x[-1]
    f, a, b = pos - lo, x[lo], x[lo + 1]
    if math.isinf(a) or math.isinf(b):
        return a if f == 0 else math.inf
    return a + f * (b - a)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--make-table")
    ap.add_argument("--table")
    ap.add_argument("--samplers", default="tpe,random,nsgaii")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--direction", default="maximize",
                    help="maximize|minimize, comma-separated per objective")
    ap.add_argument("--ref", help="reference point for the hypervolume, comma-separated")
    ap.add_argument("--objectives", type=int, default=1, help="with --make-table")
    ap.add_argument("--population", type=int, default=50)
    a = ap.parse_args()
    if a.make_table:
        make_table(a.make_table, a.objectives)
        return
    if not a.table:
        ap.error("--table or --make-table is required")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    names, n_choices, m, table = read_table(a.table)
    dirs = a.direction.split(",")
    dirs += [dirs[-1]] * (m - len(dirs))
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in dirs[:m]])
    if m > 1 and (not a.ref or len(a.ref.split(",")) != m):
        sys.exit("several objectives need --ref with one value per objective")
    ref = [float(x) for x in a.ref.split(",")] if m > 1 else None
    first = [v[0] for v in table.values() if not math.isnan(v[0])]
    best_all = max(first) if dirs[0] == "maximize" else min(first)
    better = max if dirs[0] == "maximize" else min

    print("impl,sampler,trial,median,q1,q3")
    for name in a.samplers.split(","):
        curves = np.empty((a.repeats, a.trials))
        for rep in range(a.repeats):
            if name == "tpe":
                sampler = optuna.samplers.TPESampler(seed=rep)
            elif name == "random":
                sampler = optuna.samplers.RandomSampler(seed=rep)
            elif name == "nsgaii":
                sampler = optuna.samplers.NSGAIISampler(seed=rep, population_size=a.population)
            else:
                sys.exit(f"unknown sampler {name}")
            study = optuna.create_study(directions=dirs[:m], sampler=sampler)

            def objective(trial):
                key = tuple(trial.suggest_categorical(n, list(range(c)))
                            for n, c in zip(names, n_choices))
                v = table[key]
                return v[0] if m == 1 else tuple(v)  # NaN: Optuna records a failed trial

            study.optimize(objective, n_trials=a.trials)
            best = None
            for t, tr in enumerate(study.trials):
                if m == 1:
                    if tr.value is not None and not math.isnan(tr.value):
                        best = tr.value if best is None else better(best, tr.value)
                    curves[rep, t] = math.nan if best is None else best
                else:
                    curves[rep, t] = hypervolume([x.values for x in study.trials[: t + 1]],
                                                 ref, signs)
        for t in range(a.trials):
            med, q1, q3 = quartiles(curves[:, t])
            print(f"optuna,{name},{t + 1},{med:.6g},{q1:.6g},{q3:.6g}")
        if m > 1:
            continue
        # trials needed to get within 1% of the table's optimum (median over repeats)
        tol = 0.01 * abs(best_all)
        need = []
        for rep in range(a.repeats):
            hit = np.nonzero(np.abs(curves[rep] - best_all) <= tol)[0]
            need.append(hit[0] + 1 if hit.size else math.inf)
        med, q1, q3 = (quantile_inf(need, q) for q in (0.5, 0.25, 0.75))
        print(f"optuna {name}: median trials to within 1% of the optimum "
              f"{med} [q1 {q1}, q3 {q3}] (reached in {sum(np.isfinite(need))}/{a.repeats} repeats)",
              file=sys.stderr)


if __name__ == "__main__":
    main()
