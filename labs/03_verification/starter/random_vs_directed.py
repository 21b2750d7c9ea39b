# Lab 03: how soon does the kit's own checker find the threshold bug (fires at v >= th)?
# It runs the population in Amaranth's simulator against the reference model, with the
# model's directed episodes first (directed=True) or random stimulus only (directed=False).
# Run: python random_vs_directed.py
from neurotile.labs.lab03 import SEEDS, first_mismatch_step

print("directed_first_step:", first_mismatch_step(SEEDS[0], directed=True))
for seed in SEEDS:
    print(f"random_first_step_seed{seed}:", first_mismatch_step(seed, directed=False))
