"""A loss that sees the masses: MMD² between generated and training invariant masses.

GANs learn the W and top peaks of tt̄ events poorly from the objects' coordinates alone; an MMD
term on the resonance masses sharpens them (Butter, Plehn & Winterhalder, "How to GAN LHC
events", arXiv:1907.03764). The masses are computed from the generated batch in
physical units through :class:`~hepgen.preprocessing.differentiable.TensorInverse`, so the
generator's gradient flows through the whole inverse preprocessing.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import Tensor

from hepgen.errors import HepgenError
from hepgen.preprocessing.differentiable import TensorInverse
from hepgen.preprocessing.transform import Transform

__all__ = ["BANDWIDTHS", "MAX_EVENTS", "MassMMD", "mmd2"]

#: Gaussian kernel widths in units of each mass's spread in the real batch: the narrow ones
#: resolve a resonance peak (the W's width is ~0.2 of the spread of m_jj), the wide ones the bulk.
BANDWIDTHS = (0.05, 0.1, 0.3, 1.0)
#: Events of each batch that enter the estimate: its cost grows with the square of their number,
#: and batches are in random order, so the first ones are a random subsample.
MAX_EVENTS = 128


def mmd2(a: Tensor, b: Tensor, b_weights: Tensor | None = None) -> Tensor:
    """Squared maximum mean discrepancy per row of two samples, with a sum of Gaussian kernels.

    The biased (V-statistic) estimate, ≥ 0, with the widths :data:`BANDWIDTHS` times the
    standard deviation of each row of ``b`` (detached). Gretton et al., JMLR 13 (2012) 723.

    Arguments:
        a: generated values, shape (n,) or (k, n) for k observables at once.
        b: real values, shape (m,) or (k, m).
        b_weights: weights of the real events with mean 1, shape (m,), or ``None``.

    Returns:
        Shape () for 1-d inputs, else (k,).
    """
    one = a.ndim == 1
    a, b = torch.atleast_2d(a), torch.atleast_2d(b).detach()
    scale = b.std(dim=1, keepdim=True).clamp_min(1e-6)
    a, b = a / scale, b / scale
    wb = torch.ones_like(b[0]) if b_weights is None else b_weights.to(b.dtype)
    wb = wb / wb.sum()
    wa = torch.full_like(a[0], 1.0 / a.shape[1])

    def mean_kernel(x: Tensor, wx: Tensor, y: Tensor, wy: Tensor) -> Tensor:
        d2 = (x[:, :, None] - y[:, None, :]).pow(2)  # (k, n, m)
        k = sum(torch.exp(d2 * (-0.5 / s**2)) for s in BANDWIDTHS)
        return torch.einsum("knm,n,m->k", k, wx, wy)

    with torch.no_grad():  # the real events' term carries no gradient
        real = mean_kernel(b, wb, b, wb)
    out = mean_kernel(a, wa, a, wa) + real - 2.0 * mean_kernel(a, wa, b, wb)
    return out[0] if one else out


def _mass(vectors: Sequence[tuple[Tensor, Tensor, Tensor, Tensor]]) -> Tensor:
    e, px, py, pz = (sum(v[i] for v in vectors) for i in range(4))
    return (e.pow(2) - px.pow(2) - py.pow(2) - pz.pow(2)).clamp_min(0.0).add(1e-6).sqrt()


class MassMMD:
    """``weight`` × Σ over invariant masses of MMD²(generated, real), on transformed batches.

    Arguments:
        transform: the dataset's fitted transform (with a representation).
        objects: collection names (every pair and triple of its objects gives a mass) and
            system names (the mass of its two daughters).
        weight: the factor λ of the summed MMD².
    """

    def __init__(self, transform: Transform, objects: Sequence[str], weight: float) -> None:
        self.inverse = TensorInverse(transform)
        self.weight = float(weight)
        rep = self.inverse.representation
        key = {o: o for c in rep.collections for o in c.objects()}
        for s in rep.systems:
            key |= {obj: f"{s.name}{i}" for i, obj in enumerate(s.objects, 1)}
        collections = {c.name: c for c in rep.collections}
        systems = {s.name: s for s in rep.systems}
        self.combinations: dict[str, tuple[str, ...]] = {}
        for name in objects:
            if name in systems:
                self.combinations[f"m_{name}"] = (f"{name}1", f"{name}2")
            elif name in collections:
                members = [key[o] for o in collections[name].objects()]
                for size in (2, 3):
                    for combo in itertools.combinations(range(len(members)), size):
                        label = "m_" + "".join(f"{name}{i + 1}" for i in combo)
                        self.combinations[label] = tuple(members[i] for i in combo)
            else:
                msg = (
                    f"mmd.objects: {name!r} is neither a collection {sorted(collections)} nor a "
                    f"system {sorted(systems)} of the dataset"
                )
                raise HepgenError(msg)
        if not self.combinations:
            msg = f"mmd.objects {list(objects)}: no pair of objects to build a mass from"
            raise HepgenError(msg)

    def masses(self, y: Tensor) -> dict[str, Tensor]:
        """The configured masses [GeV], (n,) each, of transformed events ``y`` (n, d)."""
        vectors = self.inverse.four_vectors(y.float())
        return {
            label: _mass([vectors[o] for o in objs]) for label, objs in self.combinations.items()
        }

    def __call__(self, generated: Tensor, real: Tensor, weights: Tensor | None = None) -> Tensor:
        """λ Σ MMD² between the masses of ``generated`` (n, d) and ``real`` (m, d) batches."""
        with torch.autocast(device_type=generated.device.type, enabled=False):
            generated, real = generated[:MAX_EVENTS], real[:MAX_EVENTS].detach()
            weights = None if weights is None else weights[:MAX_EVENTS]
            fake, true = self.masses(generated), self.masses(real)
            total = mmd2(
                torch.stack(list(fake.values())), torch.stack(list(true.values())), weights
            )
        return self.weight * total.sum()
