"""Naming conventions read while the workflow parses its config; free of heavy imports."""

from __future__ import annotations

__all__ = ["BJETS", "JETS", "LATENT_TYPES", "LEPTONS", "PHOTONS", "has_latent_space"]

#: Lepton collection names and their flavour symbol in observable names (``m_mumu``, ``m_ee``).
LEPTONS = {
    "mu": "mu",
    "muon": "mu",
    "e": "e",
    "el": "e",
    "ele": "e",
    "electron": "e",
    "tau": "tau",
    "lep": "l",
    "l": "l",
}
#: Jet collection names; those in :data:`BJETS` are b-tagged by construction.
JETS = frozenset({"jet", "j", "bjet", "b"})
BJETS = frozenset({"bjet", "b"})
#: Photon collection names.
PHOTONS = frozenset({"photon", "gamma", "ph", "a"})
#: Model types with an encoder ``encode(x) -> (mu, logvar)`` and a latent space; any other
#: type whose name contains ``vae`` counts as well (see :func:`has_latent_space`).
LATENT_TYPES = frozenset(
    {
        "vae",
        "bvae",
        "avae",
        "vae_bgmm",
        "avae_bgmm",
        "vae_d",
        "vae_nf",
        "vae_nf_d",
        "copula_vae",
        "copula_vae_d",
    }
)


def has_latent_space(model_type: str) -> bool:
    """Whether models of this config ``type`` have an encoder (and get a latent-space figure)."""
    return model_type in LATENT_TYPES or "vae" in model_type
