#!/bin/sh
# qsearch report end to end: a small real search (CSV data, jsc-tiny, 12 trials)
# reported to HTML; the HTML and every plot parse as XML (Python's xml.etree);
# the plotted points equal the study's numbers read with Python's sqlite3; the
# page is self-contained; usage and input errors exit 2, I/O errors 1; the
# headless-Chromium screenshot runs when chromium is installed (skipped otherwise).
. tests/lib.sh
use_tmp

csv_abc "$T/toy.csv" 600 11 0.8
cat > "$T/s.toml" <<'TOML'
[search.search_space]
name = "graph/quantize/mixed_precision_ptq"
[search.search_space.setup]
by = "name"
[search.search_space.seed.default.config]
name = ["NA"]
[search.search_space.seed.seq_blocks_2.config]
name = ["integer"]
data_in_width = [4, 8]
data_in_frac_width = ["NA"]
weight_width = [2, 3, 4, 8]
weight_frac_width = ["NA"]
bias_width = [4, 8]
bias_frac_width = ["NA"]
[search.strategy]
name = "optuna"
[search.strategy.setup]
n_trials = 12
sampler = "random"
sum_scaled_metrics = true
direction = "maximize"
[search.strategy.metrics]
accuracy.scale = 1.0
average_bitwidth.scale = -0.01
bitops.scale = 0.0
model_size_bits.scale = 0.0
TOML

expect 0 "train" -- "$Q" train --model jsc-tiny --data "csv:$T/toy.csv" --epochs 3 -o "$T/m.safetensors"
expect 0 "search" -- "$Q" search --config "$T/s.toml" --model "$T/m.safetensors" --data "csv:$T/toy.csv" \
    --study "$T/s.db" -o "$T/res"

# ---- usage and input errors ----
expect 0 "report --help" -- "$Q" report --help
expect 2 "report without --study" -- "$Q" report -o "$T/r.html"
stderr_has "--study" "missing --study message"
expect 2 "report without -o" -- "$Q" report --study "$T/s.db"
expect 2 "missing study" -- "$Q" report --study "$T/nope.db" -o "$T/r.html"
printf 'not a database\n' > "$T/text.db"
expect 2 "not a study" -- "$Q" report --study "$T/text.db" -o "$T/r.html"
stderr_has "text.db" "not-a-study message names the file"
check "a failed report left $T/r.html" test ! -e "$T/r.html"
expect 1 "output in a missing directory" -- "$Q" report --study "$T/s.db" -o "$T/no/such/dir/r.html"

# ---- the report ----
expect 0 "report" -- "$Q" report --study "$T/s.db" -o "$T/r.html" --plots "$T/plots" --json
check "no report written" test -s "$T/r.html"
pycheck "report content" - "$T" <<'PYEOF'
import json, os, sqlite3, sys, xml.etree.ElementTree as ET
t = sys.argv[1]
doc = json.load(open(os.path.join(t, "out")))            # --json: one document on stdout
assert doc["report"].endswith("r.html") and doc["trials"] == 12, doc
html = open(os.path.join(t, "r.html"), encoding="utf-8").read()
root = ET.fromstring(html.split("\n", 1)[1])             # well-formed (after the DOCTYPE line)
for bad in ("<script", "<link", "src=", "url(", "href=\"http"):
    assert bad not in html, "not self-contained: " + bad
plots = sorted(os.listdir(os.path.join(t, "plots")))
assert len(plots) == doc["plots"] and len(plots) >= 5, plots
ns = "{http://www.w3.org/2000/svg}"
trees = {p: ET.parse(os.path.join(t, "plots", p)).getroot() for p in plots}   # each SVG parses
for p in ("accuracy_vs_bitops.svg", "accuracy_vs_model_size_bits.svg", "history_0.svg",
          "precision_heatmap.svg", "configs_accuracy.svg"):
    assert p in trees, p + " missing"
db = sqlite3.connect(os.path.join(t, "s.db"))
rows = {n: (json.loads(m), json.loads(o)) for n, m, o in
        db.execute("select number, metrics, objectives from trials where state = 'complete' and stale = 0")}
assert len(rows) == 12, len(rows)
def points(svg, cls):
    # "trials" (feasible) and "infeasible" (violating a constraint) together hold every trial
    gs = [e for e in svg.iter(ns + "g") if e.get("class") in (cls, "infeasible" if cls == "trials" else cls)]
    return [(int(e.get("data-trial")), float(e.get("data-x")), float(e.get("data-y"))) for g in gs for e in g]
pts = points(trees["accuracy_vs_bitops.svg"], "trials")
assert sorted(p[0] for p in pts) == sorted(rows), pts
for n, x, y in pts:
    assert x == rows[n][0]["bitops"] and y == rows[n][0]["accuracy"], (n, x, y, rows[n])
for n, x, y in points(trees["history_0.svg"], "trials"):
    assert x == n and y == rows[n][1][0], (n, x, y)
best = max(rows, key=lambda n: (rows[n][1][0], -n))
chosen = [e for e in trees["accuracy_vs_bitops.svg"].iter(ns + "circle") if e.get("class") == "chosen"]
assert len(chosen) == 1 and int(chosen[0].get("data-trial")) == best, (chosen, best)
assert "#%d" % best in html
print("report content ok: %d plots, %d points" % (len(plots), len(pts)))
PYEOF

# ---- study metadata the search writes, as the report shows it ----
pycheck "search metadata in the report" - "$T" <<'PYEOF'
import json, os, re, sqlite3, sys
t = sys.argv[1]
html = open(os.path.join(t, "r.html"), encoding="utf-8").read()
db = sqlite3.connect(os.path.join(t, "s.db"))
meta = dict(db.execute("select key, value from meta"))
m = json.loads(meta["machine"])
assert m["simd"] and m["cores"] >= 1 and m["cpu"], m
assert "SIMD %s" % m["simd"] in html and "%d cores" % m["cores"] in html, "machine row"
assert re.search(r"<th>wall time</th><td>[0-9.]+ s \(search loop\)</td>", html), "wall time row"
runs = [k for k in meta if k.startswith("run:")]
assert len(runs) == 1 and abs(float(meta["wall_s"]) - json.loads(meta[runs[0]])["wall_s"]) < 2e-3, (runs, meta["wall_s"])
assert re.search(r"<th>splits</th><td>train \d+, val \d+, test \d+ samples", html), "splits row"
test = json.loads(meta["test"])
best = json.load(open(os.path.join(t, "res", "best.json")))
b = best["best"][0]
assert test[str(b["number"])]["accuracy"] == b["test"]["accuracy"], (test, b["test"])
assert "%.4f" % b["test"]["accuracy"] in html and '<th class="sub">test</th>' in html, "test figures in the table"
assert re.fullmatch(r"seq_blocks_2\[in[48] w[2348] b[48]\]", b["config"]), b["config"]
assert b["config"] in html, "configuration text in the report"
log = json.load(open(os.path.join(t, "res", "log.json")))
assert all(re.fullmatch(r"seq_blocks_2\[.*\]", x["config"]) for x in log["trials"])
print("metadata ok:", m["simd"], meta["wall_s"], b["config"])
PYEOF

# ---- latency as an objective: stored as an object, samples of the front, drawn as boxes;
# ---- a resumed run adds its own run key and wall_s covers both ----
sed -e 's/^sum_scaled_metrics = true/sum_scaled_metrics = false/' -e 's/^average_bitwidth.scale = -0.01/latency.scale = 1.0/' \
    -e '/^bitops.scale/d' -e '/^model_size_bits.scale/d' -e 's/^n_trials = 12/n_trials = 8/' "$T/s.toml" > "$T/lat.toml"
printf '[search.strategy.hw_runner.latency]\nbudget_s = 0.004\nwarmup_s = 0.0\n' >> "$T/lat.toml"
expect 0 "latency search" -- "$Q" search --config "$T/lat.toml" --model "$T/m.safetensors" --data "csv:$T/toy.csv" \
    --study "$T/lat.db" -o "$T/lat"
stderr_has "front " "multi-objective progress shows the front size"
expect 0 "latency search resumed" -- "$Q" search --config "$T/lat.toml" --model "$T/m.safetensors" \
    --data "csv:$T/toy.csv" --study "$T/lat.db" -o "$T/lat" --trials 14
expect 0 "latency report" -- "$Q" report --study "$T/lat.db" -o "$T/lat.html" --plots "$T/latplots"
pycheck "latency metadata and distributions" - "$T" <<'PYEOF'
import json, os, sqlite3, struct, sys, xml.etree.ElementTree as ET
t = sys.argv[1]
db = sqlite3.connect(os.path.join(t, "lat.db"))
meta = dict(db.execute("select key, value from meta"))
runs = [json.loads(meta[k]) for k in meta if k.startswith("run:")]
assert len(runs) == 2 and sorted(r["trials"] for r in runs) == [6, 8], runs
assert float(meta["wall_s"]) <= sum(r["wall_s"] for r in runs) + 2e-3, (meta["wall_s"], runs)
trials = {n: json.loads(m) for n, m in db.execute("select number, metrics from trials where state='complete'")}
assert len(trials) == 14
for n, m in trials.items():
    lat = m["latency"]
    assert lat["batch"] == 1 and lat["runs"] >= 1 and lat["ci95_ns"][0] <= lat["median_ns"] <= lat["ci95_ns"][1], lat
samples = {n: c for n, c in db.execute("select trial, count from trial_samples where name='latency_ns'")}
best = json.load(open(os.path.join(t, "lat", "best.json")))
front = [b["number"] for b in best["best"]]
assert best["mode"] == "pareto" and front and all(n in samples for n in front), (front, samples)
assert all(samples[n] == trials[n]["latency"]["runs"] for n in samples)
assert all(b["metrics"]["latency"] == trials[b["number"]]["latency"]["median_ns"] for b in best["best"])
svg = ET.parse(os.path.join(t, "latplots", "latency.svg")).getroot()
boxes = [e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if e.get("class") == "box"]
assert boxes and {int(e.get("data-trial")) for e in boxes} >= set(front), (boxes, front)
print("latency ok: front", front, "samples for", sorted(samples))
PYEOF

# ---- screenshot (headless Chromium), when installed ----
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    expect 0 "screenshot" -- sh scripts/screenshot.sh "$T/r.html" "$T/r.png" 2400
    check "screenshot is not a PNG" test "$(head -c 4 "$T/r.png" | od -An -tx1 | tr -d ' \n')" = "89504e47"
else
    echo "chromium not installed: screenshot test skipped" >&2
fi
expect 2 "screenshot usage" -- sh scripts/screenshot.sh
finish
