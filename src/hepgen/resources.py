"""Checks that cluster resource requests (profile, config) fit the rules that receive them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from hepgen.errors import HepgenError

__all__ = ["GPU_KEYS", "check_default_resources", "check_gpu_requests", "gpu_count"]

GPU_KEYS = ("gpu", "gpu_model", "gres", "cpus_per_gpu", "tasks_per_gpu")
"""Resources of Snakemake's SLURM executor that only mean something for a GPU job."""


def _as_int(value: Any, *, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        msg = f"{where}: expected a whole number of GPUs, found {value!r}"
        raise HepgenError(msg) from None


def gpu_count(resources: Mapping[str, Any], *, where: str = "resources") -> int:
    """The number of GPUs a set of resources asks for.

    ``gpu: N`` and ``gres: gpu:N`` / ``gpu:<model>:N`` count N; ``gres: gpu`` or a
    ``gpu_model`` alone count 1 (what the SLURM executor then requests).

    Arguments:
        resources: resource name → value (plain values, as written in a profile or config).
        where: the profile/config key named in error messages.

    Returns:
        The GPU count, ≥ 0.
    """
    count = _as_int(resources.get("gpu") or 0, where=f"{where}.gpu")
    for fields in _gpu_gres(resources):
        count += _as_int(fields[-1], where=f"{where}.gres") if len(fields) > 1 else 1
    if count == 0 and resources.get("gpu_model"):
        count = 1
    return count


def _gpu_gres(resources: Mapping[str, Any]) -> list[list[str]]:
    """The ``gpu[:model][:N]`` entries of a ``gres`` string, split at ``:``."""
    parts = [p.strip().split(":") for p in str(resources.get("gres") or "").split(",")]
    return [fields for fields in parts if fields[0] == "gpu"]


def _gpu_keys(resources: Mapping[str, Any]) -> str:
    keys = [k for k in GPU_KEYS if k != "gres" and resources.get(k)]
    keys += ["gres"] if _gpu_gres(resources) else []
    return ", ".join(f"{k}={resources[k]!r}" for k in keys)


def check_gpu_requests(
    requests: Mapping[str, Mapping[str, Any]],
    *,
    gpu_users: Collection[str],
    source: str,
) -> None:
    """Raise before any job is submitted when a request asks for GPUs a rule cannot use.

    Only ``gpu_users`` (the training and sampling rules or stages) run on a GPU, and they use
    one device; a GPU resource anywhere else would hold a GPU idle for the whole job.

    Arguments:
        requests: rule or stage name → its resources (plain values).
        gpu_users: the names that may ask for a GPU.
        source: where the requests come from, e.g. ``"set-resources"``.

    Raises:
        HepgenError: naming the source, the rule, the resource and what is allowed.
    """
    for name, resources in requests.items():
        where = f"{source} {name}"
        count = gpu_count(resources, where=where)
        keys = _gpu_keys(resources)
        if name not in gpu_users and keys:
            msg = (
                f"{where}: asks for {keys}, but {name} runs on CPU only; "
                f"only {', '.join(sorted(gpu_users))} can use a GPU"
            )
            raise HepgenError(msg)
        if count > 1:
            msg = (
                f"{where}: asks for {count} GPUs, but {name} trains or samples on one device; "
                "ask for gpu: 1 and run more model variants in parallel instead"
            )
            raise HepgenError(msg)


def check_default_resources(defaults: Mapping[str, Any], *, gpu_users: Collection[str]) -> None:
    """Raise when ``default-resources`` asks for a GPU: it would reach every CPU-only rule.

    Arguments:
        defaults: the default resources (plain values).
        gpu_users: the rules that may ask for a GPU, named in the message.

    Raises:
        HepgenError: naming the resource and where GPUs belong instead.
    """
    keys = _gpu_keys(defaults)
    if keys:
        msg = (
            f"default-resources: asks for {keys} for every rule, but only "
            f"{', '.join(sorted(gpu_users))} can use a GPU; give it to them under set-resources"
        )
        raise HepgenError(msg)
