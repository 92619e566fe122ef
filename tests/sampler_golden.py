#!/usr/bin/python3
"""Recomputes, with Optuna 3.1's own functions (Debian's python3-optuna), the
hand-computed TPE values checked in tests/test_sampler.c (test_tpe_hand_densities,
test_motpe_hand), and with --sep5 Optuna's trials-to-optimum on the synthetic
objective of test_tpe_beats_random. Not part of the suite; run it when changing
the TPE code:
    /usr/bin/python3 tests/sampler_golden.py [--sep5]
"""
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")
from optuna.distributions import CategoricalDistribution  # noqa: E402
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator  # noqa: E402
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimatorParameters  # noqa: E402
from optuna.samplers._tpe.sampler import _calculate_weights_below_for_multi_objective  # noqa: E402
from optuna.samplers._tpe.sampler import _split_observation_pairs  # noqa: E402
from optuna.samplers._tpe.sampler import default_weights  # noqa: E402

P = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, False)
SPACE = {"x": CategoricalDistribution([0, 1, 2])}
X = {"x": np.array([0, 1, 2])}


def pdf(obs, weights=None):
    pe = _ParzenEstimator({"x": np.array(obs, dtype=float)}, SPACE, P, weights)
    return np.exp(pe.log_pdf(X))


# Single objective: 12 trials, 2 parameters x 3 choices.
C = [(2, 0), (1, 1), (2, 0), (0, 1), (0, 1), (2, 2), (1, 0), (0, 2), (2, 1), (0, 0), (1, 1), (2, 2)]
V = [0.9, 0.5, 0.7, 0.1, 0.8, 0.6, 0.55, 0.2, 0.95, 0.65, 0.75, 0.85]
below, above = _split_observation_pairs([(-float("inf"), [v]) for v in V], 2, None)
print("below", list(below))
for p in range(2):
    print(f"param {p}: l", pdf([C[i][p] for i in below]), "g", pdf([C[i][p] for i in above]))

# Two objectives: 20 trials; rank 0 = t1 (1,5), t4 (2,2), t9 (5,1).
vals = []
for t in range(20):
    v = {1: [1, 5], 4: [2, 2], 9: [5, 1]}.get(t, [6 + t, 6 + t])
    vals.append((-float("inf"), v))
below, _ = _split_observation_pairs(vals, 2, None)
w = _calculate_weights_below_for_multi_objective(vals, below, None)
print("mo below", list(below), "weights", w)
choice0 = {1: 1, 4: 0}
print("mo l(x) * 102:", pdf([choice0[i] for i in below], w) * 102)

if "--sep5" in sys.argv:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    T = [3, 1, 2, 0, 3]

    def sep5(c):
        return sum((c[i] - T[i]) ** 2 * (1 + i % 2) for i in range(5))

    for mv in (False, True):
        need = []
        for seed in range(20):
            st = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, multivariate=mv))
            n = 300
            for i in range(300):
                tr = st.ask()
                v = sep5([tr.suggest_categorical(f"p{k}", [0, 1, 2, 3]) for k in range(5)])
                st.tell(tr, v)
                if v == 0:
                    n = i + 1
                    break
            need.append(n)
        print(f"sep5 optuna tpe multivariate={mv}: mean trials to optimum (cap 300) {np.mean(need)}")
