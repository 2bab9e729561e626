"""Seeds derived from the master seed."""

from __future__ import annotations

from hepgen.seeds import derive_seed


def test_derived_seeds_are_stable_and_distinct():
    seeds = {derive_seed(1, "train", "dy", m) for m in ("vae", "bvae", "gan", "flow")}
    assert len(seeds) == 4
    assert derive_seed(1, "train", "dy", "vae") == derive_seed(1, "train", "dy", "vae")
    assert derive_seed(1, "x") != derive_seed(2, "x")
    assert all(0 <= s < 2**31 for s in seeds)
