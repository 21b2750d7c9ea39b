# Lab 06: V(t) of your five neurons on the hardware's integer model.
# Run: python plot_izh.py  -> izhikevich.png
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import yaml

from neurotile.neurons.izhikevich import IzhikevichIntParams, IzhikevichParams
from neurotile.neurons.spec import run_model

answers = yaml.safe_load(open("answers.yaml"))
fig, axes = plt.subplots(len(answers), 1, figsize=(8, 1.6 * len(answers)), sharex=True)
for ax, (name, p) in zip(axes, answers.items()):
    try:
        q = IzhikevichIntParams(neurons=1).with_preset(IzhikevichParams(**p))
    except (TypeError, ValueError) as exc:
        ax.set_title(f"{name}: {exc}", fontsize=8)
        continue
    steps = int(300 / q.dt_ms)
    out, _ = run_model(q, q.current_code(np.full(steps, 10.0))[:, None])
    t = q.dt_ms * np.arange(1, steps + 1)
    ax.plot(t, q.to_mv(out["v"][:, 0]), lw=0.8)
    ax.set_ylabel(name)
axes[-1].set_xlabel("time (ms), I = 10 mV/ms from t = 0")
fig.tight_layout()
fig.savefig("izhikevich.png", dpi=120)
print("wrote izhikevich.png")
