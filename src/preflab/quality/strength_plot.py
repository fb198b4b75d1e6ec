"""The two figures of a strength run (``OUT.plots/``): the μ histogram, and σ against μ in
equal-count bins (the paper's U-shaped curve, :func:`preflab.quality.strength_stats.sigma_by_mu_bins`).
matplotlib is imported here only, with the file-only Agg backend, so no display is needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from preflab.quality.strength_stats import sigma_by_mu_bins


def plot_strength(mu: np.ndarray, sigma: np.ndarray, out_dir, title: str = "") -> list[str]:
    """μ histogram and σ against μ in 20 bins, as PNG files in ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
    ax.hist(mu, bins=40, color="#4c72b0")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("preference strength μ (mean reward difference)")
    ax.set_ylabel("pairs")
    ax.set_title(title or f"μ over {len(mu)} pairs ({(mu < 0).mean():.1%} below 0)", fontsize=9)
    fig.tight_layout()
    paths.append(str(out_dir / "strength_mu_hist.png"))
    fig.savefig(paths[-1])
    plt.close(fig)
    bins = sigma_by_mu_bins(mu, sigma)
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
    ax.plot([b["mu_mean"] for b in bins], [b["sigma_mean"] for b in bins], "o-", color="#dd8452")
    ax.set_xlabel("μ (bin mean, 20 equal-count bins)")
    ax.set_ylabel("σ (bin mean)")
    ax.set_title("σ against μ", fontsize=9)
    fig.tight_layout()
    paths.append(str(out_dir / "strength_sigma_vs_mu.png"))
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths
