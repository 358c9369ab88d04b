#!/usr/bin/python3
"""anova_f_sf (common/anova.c) against scipy.stats.f.sf over a spread of f, d1, d2."""
import subprocess
import sys

try:
    from scipy.stats import f as fdist
except ImportError:
    print("skip: scipy is not installed")
    sys.exit(77)

cases = [(f, d1, d2) for f in (0.01, 0.3, 1.0, 2.5, 7.0, 30.0, 200.0)
         for d1 in (1, 2, 3, 5.5, 12) for d2 in (1, 4, 10, 36, 300)]
inp = "".join(f"{f} {d1} {d2}\n" for f, d1, d2 in cases)
out = subprocess.run([sys.argv[1], "--sf"], input=inp, capture_output=True, text=True, check=True)
got = [float(x) for x in out.stdout.split()]
bad = 0
for (f, d1, d2), g in zip(cases, got):
    want = fdist.sf(f, d1, d2)
    if abs(g - want) > 1e-10 * max(1.0, want) and abs(g - want) > 1e-13:
        print(f"F({d1}, {d2}) sf({f}): got {g!r}, scipy {want!r}")
        bad += 1
print(f"{len(cases)} cases, {bad} off")
sys.exit(1 if bad or len(got) != len(cases) else 0)
