"""Elementary invertible one-feature transforms, fitted on training data and stored as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import special

from hepgen.errors import HepgenError

__all__ = [
    "ELEMENTARY",
    "Discrete",
    "Elementary",
    "Log",
    "Logit",
    "MinMax",
    "Quantile",
    "Standard",
    "make",
]


@dataclass
class Elementary:
    """Base class: ``fit(x)`` then ``forward(x)`` / ``inverse(y)`` on 1-d float64 arrays."""

    name: ClassVar[str] = ""

    def fit(self, x: np.ndarray, feature: str) -> Elementary:  # noqa: ARG002
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse_tensor(self, y: Any) -> Any:
        """:meth:`inverse` on a torch tensor, differentiable where the map is continuous."""
        return self.inverse(y)  # the maps written with operators alone serve both kinds

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **asdict(self)}


@dataclass
class Log(Elementary):
    """``y = log(x + offset)``; heavy-tailed positive features (pT, E, MET) become Gaussian-like.

    Arguments:
        offset: added before the log; use it for features that can be 0 (zero padding).
    """

    name: ClassVar[str] = "log"
    offset: float = 0.0

    def fit(self, x: np.ndarray, feature: str) -> Log:
        low = float(np.min(x + self.offset))
        if low <= 0:
            msg = (
                f"feature {feature!r}: 'log' needs x + offset > 0, found minimum {low:g} "
                f"(offset {self.offset:g}); give a larger offset, e.g. {{log: {{offset: 1.0}}}}"
            )
            raise HepgenError(msg)
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x + self.offset)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return np.exp(y) - self.offset

    def inverse_tensor(self, y: Any) -> Any:
        return y.exp() - self.offset


@dataclass
class Standard(Elementary):
    """``y = (x - mean) / std`` with mean and std of the training split."""

    name: ClassVar[str] = "standard"
    mean: float = 0.0
    std: float = 1.0

    def fit(self, x: np.ndarray, feature: str) -> Standard:
        self.mean, self.std = float(np.mean(x)), float(np.std(x))
        if not self.std > 1e-12 * max(1.0, abs(self.mean)):
            msg = f"feature {feature!r}: 'standard' cannot scale a zero-variance feature (every value {self.mean:g})"
            raise HepgenError(msg)
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return y * self.std + self.mean


@dataclass
class MinMax(Elementary):
    """Affine map of the training range [min, max] onto [low, high] (default [0, 1])."""

    name: ClassVar[str] = "minmax"
    low: float = 0.0
    high: float = 1.0
    min: float = 0.0
    max: float = 1.0

    def fit(self, x: np.ndarray, feature: str) -> MinMax:
        self.min, self.max = float(np.min(x)), float(np.max(x))
        if not self.max > self.min or not self.high > self.low:
            msg = (
                f"feature {feature!r}: 'minmax' needs a range, found data [{self.min:g}, {self.max:g}] "
                f"and target [{self.low:g}, {self.high:g}]"
            )
            raise HepgenError(msg)
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.low + (x - self.min) * (self.high - self.low) / (self.max - self.min)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return self.min + (y - self.low) * (self.max - self.min) / (self.high - self.low)


@dataclass
class Logit(Elementary):
    """``y = log(x / (1 - x))`` for features in the open interval (0, 1) (e.g. after minmax)."""

    name: ClassVar[str] = "logit"

    def fit(self, x: np.ndarray, feature: str) -> Logit:
        if np.any(x <= 0) or np.any(x >= 1):
            msg = (
                f"feature {feature!r}: 'logit' needs values in (0, 1), found "
                f"[{float(np.min(x)):g}, {float(np.max(x)):g}]; use minmax with low > 0 and high < 1 first"
            )
            raise HepgenError(msg)
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x) - np.log1p(-x)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-y))

    def inverse_tensor(self, y: Any) -> Any:
        return y.sigmoid()


@dataclass
class Quantile(Elementary):
    """Map the training distribution onto a standard normal through its empirical quantiles.

    Piecewise-linear between ``quantiles`` evenly spaced training quantiles, then the normal
    quantile function. Written here rather than with scikit-learn's ``QuantileTransformer``
    because that object has no public way to be rebuilt from its fitted numbers, which must
    live in human-readable JSON; the mapping is the same. Values outside the training range
    are mapped onto its ends (counted in the log by :class:`~hepgen.preprocessing.Transform`).

    Arguments:
        quantiles: number of quantiles (at least 10, at most the number of training events).
        references: fitted probabilities in [0, 1], ascending.
        values: fitted feature values at ``references``, non-decreasing.
    """

    name: ClassVar[str] = "quantile"
    quantiles: int = 1000
    references: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    #: probabilities are kept inside [eps, 1 - eps] so the normal quantile stays finite (±6.0σ)
    eps: ClassVar[float] = 1e-9

    def fit(self, x: np.ndarray, feature: str) -> Quantile:
        if self.quantiles < 10:
            msg = f"feature {feature!r}: 'quantile' needs at least 10 quantiles, found {self.quantiles}"
            raise HepgenError(msg)
        n = int(min(self.quantiles, len(x)))
        self.references = np.linspace(0.0, 1.0, n).tolist()
        self.values = np.quantile(x, self.references).tolist()
        return self

    def range(self) -> tuple[float, float]:
        return self.values[0], self.values[-1]

    def forward(self, x: np.ndarray) -> np.ndarray:
        xp, fp = np.asarray(self.values), np.asarray(self.references)
        # average of left and right interpolation: ties (e.g. zero padding) land mid-plateau
        p = 0.5 * (np.interp(x, xp, fp) - np.interp(-x, -xp[::-1], -fp[::-1]))
        return special.ndtri(np.clip(p, self.eps, 1.0 - self.eps))

    def inverse(self, y: np.ndarray) -> np.ndarray:
        p = special.ndtr(y)
        return np.interp(p, np.asarray(self.references), np.asarray(self.values))

    def inverse_tensor(self, y: Any) -> Any:
        """The piecewise-linear quantile map on a tensor (torch has no ``interp``)."""
        import torch

        xp = torch.as_tensor(self.references, dtype=y.dtype, device=y.device)
        fp = torch.as_tensor(self.values, dtype=y.dtype, device=y.device)
        p = torch.special.ndtr(y).clamp(0.0, 1.0)
        right = torch.searchsorted(xp, p.detach().contiguous()).clamp(1, len(xp) - 1)
        x0, x1, f0, f1 = xp[right - 1], xp[right], fp[right - 1], fp[right]
        t = (p - x0) / (x1 - x0).clamp_min(torch.finfo(y.dtype).tiny)
        return f0 + t.clamp(0.0, 1.0) * (f1 - f0)


@dataclass
class Discrete(Elementary):
    """Integer-valued features (multiplicity, charge, b-tag) ↔ the index of their value.

    ``forward`` maps each value to its index among the training values (unseen values to the
    nearest one); ``inverse`` rounds to the nearest index, so generated events always come
    back with a value seen in training.

    With ``dequantize``, ``forward`` adds uniform noise on [−½, ½) to the index (Uria et al.,
    "RNADE", arXiv:1306.0186; Theis et al., arXiv:1511.01844), so that a density model learns
    blocks of finite density instead of point masses, whose edges a flow smears across the
    rounding threshold (measured: the efficiency flag of a fast simulation, config/README). The
    noise is drawn from ``seed`` and the number of values, so a call is reproducible.

    Arguments:
        values: the distinct training values, ascending.
        dequantize: add the uniform noise in ``forward``.
        seed: seeds that noise.
    """

    name: ClassVar[str] = "discrete"
    values: list[float] = field(default_factory=list)
    dequantize: bool = False
    seed: int = 0
    max_values: ClassVar[int] = 256

    def fit(self, x: np.ndarray, feature: str) -> Discrete:
        values = np.unique(x)
        if len(values) > self.max_values:
            msg = (
                f"feature {feature!r}: 'discrete' expects at most {self.max_values} distinct values, "
                f"found {len(values)}; is it really discrete?"
            )
            raise HepgenError(msg)
        self.values = values.tolist()
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        values = np.asarray(self.values)
        idx = np.clip(np.searchsorted(values, x), 1, len(values) - 1) if len(values) > 1 else 0
        if len(values) > 1:
            left_closer = np.abs(x - values[idx - 1]) <= np.abs(values[idx] - x)
            idx = np.where(left_closer, idx - 1, idx)
        index = np.asarray(idx, dtype=np.float64) + np.zeros_like(x)
        if self.dequantize:
            rng = np.random.default_rng([self.seed, index.size])
            index = index + rng.uniform(-0.5, 0.5, index.shape)
        return index

    def inverse(self, y: np.ndarray) -> np.ndarray:
        idx = np.clip(np.rint(y), 0, len(self.values) - 1).astype(np.int64)
        return np.asarray(self.values)[idx]

    def inverse_tensor(self, y: Any) -> Any:
        """The nearest value, as :meth:`inverse` (no gradient: the map is a step function)."""
        import torch

        values = torch.as_tensor(self.values, dtype=y.dtype, device=y.device)
        return values[y.detach().round().clamp(0, len(values) - 1).long()]


ELEMENTARY: dict[str, type[Elementary]] = {
    c.name: c for c in (Log, Standard, MinMax, Logit, Quantile, Discrete)
}


def make(item: str | dict[str, Any], feature: str = "?") -> Elementary:
    """Build an elementary transform from a config item: ``"log"`` or ``{"log": {"offset": 1}}``
    or a stored ``{"name": "log", "offset": 1}``."""
    if isinstance(item, str):
        name, params = item, {}
    elif "name" in item:
        params = dict(item)
        name = params.pop("name")
    elif len(item) == 1:
        name, params = next(iter(item.items()))
        params = dict(params or {})
    else:
        msg = (
            f"feature {feature!r}: a transform item is a name or a one-key mapping, found {item!r}"
        )
        raise HepgenError(msg)
    if name not in ELEMENTARY:
        msg = f"feature {feature!r}: unknown transform {name!r}; known: {sorted(ELEMENTARY)}"
        raise HepgenError(msg)
    try:
        return ELEMENTARY[name](**params)
    except TypeError as err:
        msg = f"feature {feature!r}: bad parameters {params!r} for transform {name!r}: {err}"
        raise HepgenError(msg) from err
