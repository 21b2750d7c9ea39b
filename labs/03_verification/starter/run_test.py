# Lab 03: run your test_lif.py on the LIF population with Icarus, as the checker does.
# Run: python run_test.py [--bug threshold|saturation] [--seed N]
# Logs and results.xml go under build/ (the last lines printed say where).
import argparse

from neurotile.labs.lab03 import run_student

ap = argparse.ArgumentParser()
ap.add_argument("--bug", choices=("threshold", "saturation"), default=None,
                help="run against a design with this planted bug (default: the correct one)")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--test", default=None, help="run only this test (e.g. test_directed)")
args = ap.parse_args()
result = run_student(".", bug=args.bug, seed=args.seed, testcase=args.test)
print(f"{result.tests} tests, {result.failed} failed; log: {result.run_dir / 'sim.log'}")
