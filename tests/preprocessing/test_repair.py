"""Post-processing of generated events: the physicality count and the repairs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepgen.preprocessing import find_objects, repair

TRAIN = pd.DataFrame(
    {
        "j1_pt": [50.0, 40.0, 30.0],
        "j1_eta": [0.1, -1.0, 2.0],
        "j1_phi": [0.5, 1.0, -2.0],
        "j1_e": [60.0, 70.0, 120.0],
        "j2_pt": [25.0, 0.0, 21.0],
        "j2_eta": [0.3, 0.0, 0.2],
        "j2_phi": [1.5, 0.0, 2.0],
        "j2_e": [30.0, 0.0, 22.0],
        "n_j": [2.0, 1.0, 2.0],
        "met": [10.0, 20.0, 5.0],
    }
)


def test_layout_is_measured_on_training():
    (layout,) = find_objects(TRAIN)
    assert (layout.name, layout.slots, layout.min_pt, layout.min_count) == ("j", 2, 21.0, 1)
    assert layout.max_abs_eta == 2.0  # present objects only: the absent j2 of event 2 has η = 0


def test_an_object_beyond_the_training_eta_is_invalid_but_not_unphysical():
    """Outside the training support in |η| as below it in pT: counted, and left to the
    dataset's selection; a transform written before |η| was measured checks none."""
    generated = TRAIN.copy()
    generated.loc[1, ["j1_eta", "j1_e"]] = [-2.3, 250.0]  # E > |p| = 200 GeV
    # event 2's j1 sits at the training's largest |η| (2.0): inside
    fixed, stats = repair(generated, find_objects(TRAIN))
    assert stats["invalid"] == 1 and stats["reasons"]["beyond_eta"] == 1
    assert stats["unphysical"] == 0
    assert fixed.loc[1, "j1_eta"] == -2.3  # counted, not moved
    (layout,) = find_objects(TRAIN)
    unmeasured = type(layout)(layout.name, layout.slots, layout.min_pt, layout.min_count)
    assert repair(generated, [unmeasured])[1]["invalid"] == 0


def test_valid_events_pass_untouched():
    fixed, stats = repair(TRAIN, find_objects(TRAIN))
    assert stats["invalid"] == 0 and stats["invalid_fraction"] == 0.0
    pd.testing.assert_frame_equal(fixed, TRAIN)


def test_each_defect_is_counted_and_repaired():
    generated = TRAIN.copy()
    generated.loc[0, ["j2_pt", "j2_eta", "j2_phi", "j2_e"]] = [3.0, 0.4, 0.2, 4.0]  # tiny → absent
    generated.loc[1, ["j2_pt", "j2_eta", "j2_phi", "j2_e"]] = [45.0, 0.0, 1.0, 46.0]  # out of order
    generated.loc[2, "j1_e"] = 10.0  # E < |p|: negative mass²
    generated.loc[2, "met"] = -4.0
    generated.loc[0, "j1_phi"] = 4.0
    fixed, stats = repair(generated, find_objects(TRAIN))
    assert stats["invalid"] == 3
    assert stats["reasons"]["pt_order"] == 1
    assert stats["reasons"]["negative_mass"] == 1
    assert stats["reasons"]["negative"] == 1
    assert stats["reasons"]["phi_range"] == 1
    assert (fixed.loc[0, ["j2_pt", "j2_eta", "j2_phi", "j2_e"]] == 0).all()
    assert fixed.loc[0, "n_j"] == 1
    assert fixed.loc[1, "j1_pt"] == 45.0 and fixed.loc[1, "j2_pt"] == 40.0
    p = fixed["j1_pt"] * np.cosh(fixed["j1_eta"])
    assert (fixed["j1_e"] >= p - 1e-9).all()
    assert fixed.loc[2, "met"] == 4.0
    assert -np.pi < fixed.loc[0, "j1_phi"] <= np.pi
