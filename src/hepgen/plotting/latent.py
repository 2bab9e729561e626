"""Latent space of encoder models: encoded test events against the points the generator decodes.

Otten et al. (arXiv:1901.00875) show why a naive VAE samples badly: the encoded events do not
fill the N(0, 1) prior it samples from. This figure shows that mismatch for any model with an
encoder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import hist
import mplhep
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from scipy.stats import norm
from sklearn.decomposition import PCA

from hepgen.conventions import LATENT_TYPES, has_latent_space
from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.plotting.style import COLORS, DPI, style

__all__ = ["LATENT_TYPES", "LatentPoints", "has_latent_space", "latent_points", "plot_latent"]

#: Latent dimensions whose marginals are drawn (the widest spread first).
MARGINALS = 8
#: Fixed room around the panels [inches]: y tick labels and label (left), the title and the
#: two-line panel titles (top), the x labels (bottom); between panels, as fractions of a
#: panel: a colour bar with its label and the next panel's y labels (wspace), x labels (hspace).
MARGINS = {"left": 0.75, "right": 0.15, "top": 0.95, "bottom": 0.55, "wspace": 0.55, "hspace": 0.45}
_CHUNK = 65536


@dataclass(frozen=True)
class LatentPoints:
    """Encoded events and latent points of one model.

    Attributes:
        mu: encoder means of the test events, shape ``(n, L)``.
        sigma: encoder standard deviations, shape ``(n, L)``.
        sampled: the latent points the generator decodes, shape ``(m, L)``.
        source: what ``sampled`` is drawn from (e.g. ``"generator's latent sampler"``).
    """

    mu: np.ndarray
    sigma: np.ndarray
    sampled: np.ndarray
    source: str


@torch.no_grad()
def latent_points(
    model: torch.nn.Module, x: np.ndarray, *, seed: int, model_type: str = "model"
) -> LatentPoints:
    """Encode events and draw as many latent points as the generator would decode.

    Arguments:
        model: a model with ``encode(x) -> (mu, logvar)`` (or ``-> mu``) and, ideally,
            ``sample_latent(n, generator)``; without the latter the N(0, 1) prior is drawn.
        x: events in the model's transformed space, shape ``(n, d)``.
        seed: seeds the latent draws.
        model_type: the model's type, for the error message.

    Returns:
        The encoded means and widths and the sampled latent points.
    """
    encode = getattr(model, "encode", None)
    if not callable(encode):
        msg = (
            f"model type {model_type!r} has no encoder (no encode method): no latent space to plot"
        )
        raise HepgenError(msg)
    model = model.to("cpu").eval()
    mus, sigmas = [], []
    for chunk in torch.as_tensor(x, dtype=torch.float32).split(_CHUNK):
        out = encode(chunk)
        mu, logvar = out if isinstance(out, tuple) else (out, None)
        mus.append(mu.float().numpy())
        zeros = torch.full_like(mu, -np.inf)
        sigmas.append(torch.exp(0.5 * (zeros if logvar is None else logvar.float())).numpy())
    mu = np.concatenate(mus)
    generator = torch.Generator().manual_seed(seed)
    sampler = getattr(model, "sample_latent", None)
    if callable(sampler):
        sampled = sampler(len(mu), generator).float().cpu().numpy()
        source = "generator's latent sampler"
    else:
        sampled = torch.randn(mu.shape, generator=generator).numpy()
        source = "prior N(0, 1)"
    return LatentPoints(mu, np.concatenate(sigmas), sampled, source)


def plot_latent(points: LatentPoints, *, path: str | os.PathLike, title: str) -> Figure:
    """Save a PNG: PCA projections, per-dimension spread and width, and latent marginals.

    Arguments:
        points: from :func:`latent_points`.
        path: output PNG path, written atomically.
        title: figure title, e.g. ``"dy_mumu: bvae"``.

    Returns:
        The saved figure: with two or more latent dimensions, the PCA projections of the
        encoded means and of the sampled points (each with a colour bar) beside a text panel;
        the spread-and-width bar chart; and the marginals of up to :data:`MARGINALS`
        dimensions, widest spread first (x label ``z_<dimension>``).
    """
    spread = points.mu.std(axis=0)
    order = np.argsort(-spread)[:MARGINALS]
    columns = 4
    rows = 1 + int(np.ceil(len(order) / columns))
    with style():
        width, height = 3.4 * columns, 3.0 * rows + 0.6
        figure = Figure(figsize=(width, height))
        grid = figure.add_gridspec(rows, columns, **_fixed_margins(width, height))
        _pca_panels(figure, grid, points)
        _spread_panel(figure.add_subplot(grid[0, 3]), spread, points.sigma.mean(axis=0))
        for i, dim in enumerate(order):
            ax = figure.add_subplot(grid[1 + i // columns, i % columns])
            _marginal(ax, points.mu[:, dim], points.sampled[:, dim], dim, legend=i == 0)
        figure.suptitle(
            f"{title}: latent space ({points.mu.shape[1]} dimensions, {len(points.mu):,} "
            f"test events encoded; sampled: {points.source})",
            weight="bold",
        )
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=DPI)
    return figure


def _fixed_margins(width: float, height: float) -> dict[str, float]:
    """Grid placement for a figure of ``width`` × ``height`` inches from :data:`MARGINS`.

    A fixed layout draws the figure once; the constrained layout measured every tick label
    first and took 3.7 of the figure's 6.3 CPU s (three latent dimensions and more)."""
    return {
        "left": MARGINS["left"] / width,
        "right": 1.0 - MARGINS["right"] / width,
        "top": 1.0 - MARGINS["top"] / height,
        "bottom": MARGINS["bottom"] / height,
        "wspace": MARGINS["wspace"],
        "hspace": MARGINS["hspace"],
    }


def _pca_panels(figure: Figure, grid, points: LatentPoints) -> None:
    """Two leading principal components (fitted on the encoded means) of both point sets."""
    if points.mu.shape[1] < 2:
        return
    pca = PCA(n_components=2).fit(points.mu)
    projected = {"encoded test events (μ)": pca.transform(points.mu)}
    projected[f"sampled ({points.source})"] = pca.transform(points.sampled)
    reference = projected["encoded test events (μ)"]
    low, high = np.quantile(reference, [0.005, 0.995], axis=0)
    pad = 0.15 * (high - low)
    edges = [np.linspace(low[k] - pad[k], high[k] + pad[k], 61) for k in range(2)]
    for k, (label, xy) in enumerate(projected.items()):
        ax = figure.add_subplot(grid[0, k])
        h = hist.Hist(hist.axis.Variable(edges[0]), hist.axis.Variable(edges[1]))
        h.fill(xy[:, 0], xy[:, 1])
        counts = h.values()
        artists = mplhep.hist2dplot(
            h, ax=ax, norm=LogNorm(vmin=1, vmax=max(counts.max(), 2)), cbar=False
        )
        bar = figure.colorbar(artists.pcolormesh, ax=ax, label="events per bin")
        bar.ax.yaxis.set_minor_formatter(NullFormatter())
        outside = 100.0 * (1.0 - counts.sum() / len(xy))
        ax.set_xlabel(f"PC 1 ({100 * pca.explained_variance_ratio_[0]:.0f} % of variance)")
        ax.set_ylabel(f"PC 2 ({100 * pca.explained_variance_ratio_[1]:.0f} %)")
        ax.set_title(f"{label}\n{outside:.1f} % outside the axes", fontsize=9.5)
    _legend_text(figure.add_subplot(grid[0, 2]))


def _legend_text(ax: Axes) -> None:
    ax.axis("off")
    ax.text(
        0.0,
        0.5,
        "Left: encoder means μ of the test events;\n"
        "right: the latent points the generator\n"
        "decodes, both projected on the two leading\n"
        "principal axes of μ. Where they differ the\n"
        "decoder is asked for codes it never learnt.\n\n"
        "Far right: per latent dimension, the spread\n"
        "of μ over events and the mean encoder width σ;\n"
        "the N(0, 1) prior has spread 1.",
        transform=ax.transAxes,
        va="center",
        fontsize=8.5,
    )


def _spread_panel(ax: Axes, spread: np.ndarray, width: np.ndarray) -> None:
    dims = np.arange(len(spread))
    ax.bar(dims - 0.2, spread, width=0.4, color=COLORS["truth"], label="spread of μ")
    ax.bar(
        dims + 0.2, np.maximum(width, 1e-12), width=0.4, color=COLORS["generated"], label="mean σ"
    )
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--", label="prior")
    ax.set_yscale("log")
    values = np.concatenate([spread, width[width > 0], [1.0]])
    ax.set_ylim(0.5 * values.min(), 60.0 * values.max())  # room for the legend on top
    ax.set_xlabel("latent dimension")
    ax.set_title("spread and width per dimension", fontsize=10)
    ax.legend(fontsize=7.5, loc="upper center", ncols=3, handlelength=1.2, columnspacing=0.8)


def _marginal(ax: Axes, mu: np.ndarray, sampled: np.ndarray, dim: int, *, legend: bool) -> None:
    low, high = np.quantile(np.concatenate([mu, sampled]), [0.002, 0.998])
    edges = np.linspace(min(low, -3.0), max(high, 3.0), 61)
    ax.hist(
        mu,
        edges,
        density=True,
        histtype="stepfilled",
        color=COLORS["truth"],
        alpha=0.3,
        label="encoded μ",
    )
    ax.hist(
        sampled, edges, density=True, histtype="step", color=COLORS["generated"], label="sampled"
    )
    grid = np.linspace(edges[0], edges[-1], 400)
    ax.plot(grid, norm.pdf(grid), color="black", linewidth=0.8, linestyle="--", label="N(0, 1)")
    ax.set_xlabel(f"$z_{{{dim}}}$")
    ax.set_ylabel("density")
    if legend:
        ax.legend(fontsize=8)
