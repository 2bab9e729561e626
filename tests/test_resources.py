"""GPU requests that a rule cannot use are refused before anything is submitted."""

from __future__ import annotations

import pytest

from hepgen.errors import HepgenError
from hepgen.resources import check_default_resources, check_gpu_requests, gpu_count

GPU_RULES = ("train_model", "sample_model")


@pytest.mark.parametrize(
    ("resources", "count"),
    [
        ({}, 0),
        ({"gpu": 0, "mem_mb": 4000}, 0),
        ({"gpu": 1}, 1),
        ({"gpu": "2"}, 2),
        ({"gres": "gpu:1"}, 1),
        ({"gres": "gpu:a100:2"}, 2),
        ({"gres": "gpu"}, 1),
        ({"gres": "tmpdisk:100"}, 0),
        ({"gpu_model": "a100"}, 1),
    ],
)
def test_gpu_count_reads_every_way_to_ask_for_a_gpu(resources, count):
    assert gpu_count(resources) == count


def test_gpu_for_training_and_sampling_is_accepted():
    requests = {
        "train_model": {"gpu": 1, "gpu_model": "a100", "cpus_per_gpu": 4},
        "sample_model": {"gres": "gpu:1"},
        "evaluate_model": {"mem_mb": 8000, "gres": "tmpdisk:10"},
    }
    check_gpu_requests(requests, gpu_users=GPU_RULES, source="set-resources")


@pytest.mark.parametrize(
    ("resources", "needle"),
    [
        ({"gpu": 1}, "gpu=1"),
        ({"gres": "gpu:1"}, "gres='gpu:1'"),
        ({"gpu_model": "a100"}, "gpu_model='a100'"),
        ({"cpus_per_gpu": 4}, "cpus_per_gpu=4"),
    ],
)
def test_gpu_for_a_cpu_rule_is_refused(resources, needle):
    with pytest.raises(HepgenError) as err:
        check_gpu_requests(
            {"evaluate_model": resources}, gpu_users=GPU_RULES, source="set-resources"
        )
    text = str(err.value)
    assert text.startswith("set-resources evaluate_model: asks for")
    assert needle in text and "runs on CPU only; only sample_model, train_model can use" in text


def test_more_than_one_gpu_is_refused():
    with pytest.raises(HepgenError, match="asks for 2 GPUs, but train_model .* one device"):
        check_gpu_requests({"train_model": {"gpu": 2}}, gpu_users=GPU_RULES, source="profile")


def test_a_gpu_count_that_is_not_a_number_is_refused():
    with pytest.raises(HepgenError, match="train_model.gpu: expected a whole number"):
        check_gpu_requests({"train_model": {"gpu": "one"}}, gpu_users=GPU_RULES, source="profile")


def test_a_default_gpu_is_refused_because_it_reaches_every_cpu_rule():
    check_default_resources({"mem_mb": 4000, "slurm_partition": "cpu"}, gpu_users=GPU_RULES)
    with pytest.raises(HepgenError, match=r"default-resources: asks for gpu=1 for every rule"):
        check_default_resources({"gpu": 1}, gpu_users=GPU_RULES)
