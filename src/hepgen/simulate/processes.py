"""Hard processes for the built-in Pythia8 source: settings tables and their options."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pythia8mc

from hepgen.errors import HepgenError

__all__ = [
    "NO_UPPER_CUT",
    "PROCESSES",
    "LeptonFilter",
    "Process",
    "SemileptonicVeto",
    "check_filter",
    "process_options",
]

NO_UPPER_CUT = 0.0
"""Value of an ``*_max`` option meaning "no upper cut" (Pythia reads a maximum below the
minimum the same way; a number ≥ 0 passes the config schema's rule for options)."""

_LEPTON_ID = {"e": (11,), "mu": (13,), "any": (11, 13)}  # charged-lepton PDG ids per option value


@dataclass(frozen=True)
class Process:
    """A named hard process.

    Arguments:
        name: the config name (``simulate.process``).
        description: one line for logs and docs.
        defaults: every option with its default value.
        choices: the allowed values of string options.
        settings: maps the full option dict to Pythia ``readString`` lines.
        hook: optional factory of a process-level veto (``pythia8mc.UserHooks``) from the
            full option dict; it may return None (no veto for these options).
    """

    name: str
    description: str
    defaults: dict[str, Any]
    choices: dict[str, tuple[str, ...]]
    settings: Callable[[dict[str, Any]], list[str]]
    hook: Callable[[dict[str, Any]], pythia8mc.UserHooks | None] | None = field(default=None)


class _ProcessLevelVeto(pythia8mc.UserHooks):
    """A veto on the process record (resonances decayed, before showers and hadronisation):
    rejected events cost almost nothing and Pythia's ``sigmaGen`` already includes the
    acceptance. Counts the events ``tried`` and ``accepted``.

    Arguments:
        leptons: the charged-lepton PDG ids (absolute values) the subclass looks at.
    """

    def __init__(self, leptons: tuple[int, ...]) -> None:
        super().__init__()
        self.leptons = frozenset(leptons)
        self.tried = 0
        self.accepted = 0

    def canVetoProcessLevel(self) -> bool:  # noqa: N802 - Pythia's name
        return True


class SemileptonicVeto(_ProcessLevelVeto):
    """Keep tt̄ events with exactly one W → ℓν (ℓ in ``leptons``) and one W → qq'.

    The veto acts on the process record (after resonance decays, before showers and
    hadronisation), so rejected events cost almost nothing and Pythia's ``sigmaGen``
    already includes the acceptance.

    Arguments:
        leptons: accepted charged-lepton PDG ids (absolute values).
    """

    def doVetoProcessLevel(self, process: pythia8mc.Event) -> bool:  # noqa: N802
        self.tried += 1
        leptonic = hadronic = 0
        for i in range(process.size()):
            particle = process[i]
            if abs(particle.id()) != 24 or particle.daughter1() <= 0:
                continue
            first, last = particle.daughter1(), max(particle.daughter1(), particle.daughter2())
            ids = {abs(process[j].id()) for j in range(first, last + 1)}
            leptonic += bool(ids & self.leptons)
            hadronic += max(ids) <= 5  # W → q q' (q = d, u, s, c, b)
        keep = leptonic == 1 and hadronic == 1
        self.accepted += keep
        return not keep


class LeptonFilter(_ProcessLevelVeto):
    """Keep events whose hard-process charged leptons all lie inside a loose acceptance.

    A generator-level filter: the veto acts on the process record (the resonance decayed,
    before showers, MPI and hadronisation), so a rejected event costs only its hard process,
    and Pythia's ``sigmaGen`` is the filtered cross section. The leptons still change after
    the filter (initial-state recoil, photon radiation, detector smearing), so the filter
    must be looser than the analysis selection by a margin; what it then loses of the selected
    events is measured in config/README ("Generator-level filter").

    Arguments:
        leptons: filtered charged-lepton PDG ids (absolute values).
        pt_min: smallest lepton pT [GeV]; 0 = no cut.
        abs_eta_max: largest lepton |η|; ``NO_UPPER_CUT`` = no cut.
    """

    def __init__(self, leptons: tuple[int, ...], pt_min: float, abs_eta_max: float) -> None:
        super().__init__(leptons)
        self.pt_min = float(pt_min)
        self.abs_eta_max = float(abs_eta_max) if abs_eta_max != NO_UPPER_CUT else float("inf")

    def doVetoProcessLevel(self, process: pythia8mc.Event) -> bool:  # noqa: N802
        self.tried += 1
        for i in range(process.size()):
            particle = process[i]
            if not particle.isFinal() or abs(particle.id()) not in self.leptons:
                continue
            if particle.pT() <= self.pt_min or abs(particle.eta()) >= self.abs_eta_max:
                return True
        self.accepted += 1
        return False


def _lepton_filter(opts: dict[str, Any]) -> LeptonFilter | None:
    """The process's ``LeptonFilter``, or None when both of its cuts are off."""
    if opts["filter_min_pt"] == 0 and opts["filter_max_abs_eta"] == NO_UPPER_CUT:
        return None
    return LeptonFilter(
        _LEPTON_ID[opts["lepton"]], opts["filter_min_pt"], opts["filter_max_abs_eta"]
    )


_FILTER_DEFAULTS = {"filter_min_pt": 0.0, "filter_max_abs_eta": NO_UPPER_CUT}
"""Options of ``LeptonFilter`` (off by default) for the processes with a dilepton decay."""


def _decay_lines(boson: int, leptons: tuple[int, ...], quarks: bool = False) -> list[str]:
    products = (*range(1, 6), *leptons) if quarks else leptons
    return [f"{boson}:onMode = off", f"{boson}:onIfAny = {' '.join(map(str, products))}"]


def _upper_cut(key: str, value: float) -> list[str]:
    return [] if value == NO_UPPER_CUT else [f"{key} = {float(value)}"]


def _dy_ll(opts: dict[str, Any]) -> list[str]:
    return [
        "WeakSingleBoson:ffbar2gmZ = on",  # q q̄ → γ*/Z (interference included)
        f"PhaseSpace:mHatMin = {float(opts['mll_min'])}",  # lower cut on m(ℓℓ) [GeV]
        *_upper_cut("PhaseSpace:mHatMax", opts["mll_max"]),  # upper cut on m(ℓℓ) [GeV]
        *_decay_lines(23, _LEPTON_ID[opts["lepton"]]),  # γ*/Z → chosen flavour only
    ]


def _ttbar_semilep(opts: dict[str, Any]) -> list[str]:
    # Pythia cannot pick "one W leptonic, the other hadronic" at random per event, and forcing
    # W+ → ℓν with W- → qq' (onPosIfAny/onNegIfAny) would bias the lepton charge. Instead both
    # W decay to quarks or the chosen leptons, and SemileptonicVeto keeps the events with exactly
    # one leptonic W; the branching ratios and the veto acceptance are both in sigmaGen.
    return [
        "Top:gg2ttbar = on",
        "Top:qqbar2ttbar = on",
        *_decay_lines(24, _LEPTON_ID[opts["lepton"]], quarks=True),
    ]


def _z_gamma(opts: dict[str, Any]) -> list[str]:
    return [
        "WeakBosonAndParton:ffbar2gmZgm = on",  # q q̄ → γ*/Z γ
        f"PhaseSpace:pTHatMin = {float(opts['pthat_min'])}",  # photon pT of the 2 → 2 [GeV]
        f"23:mMin = {float(opts['mll_min'])}",  # lower cut on m(ℓℓ) of the γ*/Z [GeV]
        *_upper_cut("23:mMax", opts["mll_max"]),  # upper cut on m(ℓℓ) of the γ*/Z [GeV]
        *_decay_lines(23, _LEPTON_ID[opts["lepton"]]),
    ]


PROCESSES: dict[str, Process] = {
    "dy_ll": Process(
        name="dy_ll",
        description="pp → Z/γ* → ℓ+ℓ-",
        defaults={"lepton": "mu", "mll_min": 50.0, "mll_max": NO_UPPER_CUT, **_FILTER_DEFAULTS},
        choices={"lepton": ("mu", "e")},
        settings=_dy_ll,
        hook=_lepton_filter,
    ),
    "ttbar_semilep": Process(
        name="ttbar_semilep",
        description="pp → tt̄ → (bℓν)(bqq')",
        defaults={"lepton": "mu"},
        choices={"lepton": ("mu", "e", "any")},
        settings=_ttbar_semilep,
        hook=lambda opts: SemileptonicVeto(_LEPTON_ID[opts["lepton"]]),
    ),
    "z_gamma": Process(
        name="z_gamma",
        description="pp → Z/γ* γ → ℓ+ℓ-γ",
        defaults={
            "lepton": "mu",
            "mll_min": 50.0,
            "mll_max": NO_UPPER_CUT,
            "pthat_min": 10.0,
            **_FILTER_DEFAULTS,
        },
        choices={"lepton": ("mu", "e")},
        settings=_z_gamma,
        hook=_lepton_filter,
    ),
}


def process_options(name: str, options: Mapping[str, Any]) -> tuple[Process, dict[str, Any]]:
    """Look up a process and merge the given options over its defaults.

    Arguments:
        name: a key of ``PROCESSES``.
        options: process options only (a subset of ``Process.defaults``).

    Returns:
        The process and its complete option dict.

    Raises:
        HepgenError: for an unknown process or option, a value of the wrong kind, or an
            ``<x>_max`` (e.g. ``mll_max``) that is neither ``NO_UPPER_CUT`` nor above ``<x>_min``.
    """
    if name not in PROCESSES:
        msg = f"simulate.process: unknown process {name!r}; valid processes: {sorted(PROCESSES)}"
        raise HepgenError(msg)
    process = PROCESSES[name]
    merged = dict(process.defaults)
    for key, value in options.items():
        if key not in merged:
            msg = f"simulate: process {name!r} has no option {key!r}; valid: {sorted(merged)}"
            raise HepgenError(msg)
        allowed = process.choices.get(key)
        if allowed is not None and value not in allowed:
            msg = f"simulate.{key}: expected one of {list(allowed)} for {name!r}, found {value!r}"
            raise HepgenError(msg)
        if allowed is None and (isinstance(value, bool) or not isinstance(value, int | float)):
            msg = f"simulate.{key}: expected a number for {name!r}, found {value!r}"
            raise HepgenError(msg)
        merged[key] = value
    _check_ranges(name, merged)
    return process, merged


def _check_ranges(name: str, opts: dict[str, Any]) -> None:
    """Every ``<x>_max`` option is ``NO_UPPER_CUT`` or above its ``<x>_min``."""
    for key, upper in opts.items():
        lower_key = key.removesuffix("_max") + "_min"
        if not key.endswith("_max") or lower_key not in opts or upper == NO_UPPER_CUT:
            continue
        if not upper > opts[lower_key]:
            msg = (
                f"simulate.{key}: expected {NO_UPPER_CUT:g} (no upper cut) or a value above "
                f"{lower_key} = {opts[lower_key]:g} for {name!r}, found {upper:g}"
            )
            raise HepgenError(msg)


def check_filter(
    name: str, options: Mapping[str, Any], objects: list[Mapping[str, Any]], where: str
) -> None:
    """A lepton filter must be looser than the selection of every collection of its leptons.

    The filter cuts on the hard process's leptons; the dataset's objects select the
    reconstructed ones, which radiation and smearing moved. A filter at or inside the
    selection would remove events the selection keeps, so it is refused.

    Arguments:
        name: the process (a key of ``PROCESSES``).
        options: the chunk's options (process options and others; others are ignored).
        objects: the dataset's ``objects`` entries; those with ``prefix: lep_`` are checked.
        where: the config key of the ``simulate`` mapping, for messages.

    Raises:
        HepgenError: naming the filter option and the object whose selection it cuts into.
    """
    defaults = PROCESSES[name].defaults
    if "filter_min_pt" not in defaults:
        return
    opts = {**defaults, **{k: v for k, v in options.items() if k in defaults}}
    pt_min, eta_max = float(opts["filter_min_pt"]), float(opts["filter_max_abs_eta"])
    for obj in objects:
        if obj.get("prefix") != "lep_":
            continue
        selection_pt = float(obj.get("min_pt", 0.0))
        if pt_min > 0 and not selection_pt > pt_min:
            msg = (
                f"{where}.filter_min_pt: {pt_min:g} GeV is not below the selection of objects "
                f"{obj.get('name')!r} (min_pt = {selection_pt:g} GeV): the filter would remove "
                f"events the selection keeps; leave a margin for radiation and smearing"
            )
            raise HepgenError(msg)
        selection_eta = float(obj.get("max_abs_eta", float("inf")))
        if eta_max != NO_UPPER_CUT and not selection_eta < eta_max:
            msg = (
                f"{where}.filter_max_abs_eta: {eta_max:g} is not above the selection of objects "
                f"{obj.get('name')!r} (max_abs_eta = {selection_eta:g}): the filter would remove "
                f"events the selection keeps; leave a margin for radiation and smearing"
            )
            raise HepgenError(msg)
