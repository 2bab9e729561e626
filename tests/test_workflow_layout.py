"""Every stage is one hop from rule to script to module: rule ``plot_X`` runs
``scripts/plot_X.py``, whose figure code lives in ``hepgen.plotting.X``; every other stage rule
runs the script named after its stage."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "workflow" / "rules"

#: Non-plot stage rules and the script each runs.
STAGES = {
    "simulate_chunk": "simulate.py",
    "ingest_events": "ingest.py",
    "preprocess_split": "preprocess.py",
    "train_model": "train.py",
    "package_model": "package.py",
    "sample_model": "sample.py",
    "refine_model": "refine.py",
    "write_root": "write_root.py",
    "evaluate_model": "evaluate.py",
}
#: The plot rules (rule names are part of the command-line interface).
PLOTS = {
    "plot_preprocessing",
    "plot_histograms",
    "plot_observables",
    "plot_correlations",
    "plot_latent",
    "plot_training",
    "plot_weights",
    "plot_response",
    "plot_leaderboard",
}

_RULE = re.compile(r"^rule\s+(\w+)\s*:")
_SCRIPT = re.compile(r"^\s+script:\s*(.*)$")
_STRING = re.compile(r"""^\s*(["'])(.+?)\1""")


def parse_rules(text: str) -> dict[str, str | None]:
    """Rule name → the path its ``script:`` directive names (``None`` without one)."""
    rules: dict[str, str | None] = {}
    rule = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if match := _RULE.match(line):
            rule = match.group(1)
            rules[rule] = None
        elif rule and (match := _SCRIPT.match(line)):
            rest = match.group(1) or (lines[i + 1] if i + 1 < len(lines) else "")
            found = _STRING.match(rest)
            rules[rule] = found.group(2) if found else rest.strip()
    return rules


def workflow_rules(rules_dir: Path = RULES_DIR) -> dict[str, tuple[Path, str | None]]:
    """Rule name → (its rule file, its script path as written) over every ``*.smk`` file."""
    out: dict[str, tuple[Path, str | None]] = {}
    for path in sorted(rules_dir.glob("*.smk")):
        for rule, script in parse_rules(path.read_text()).items():
            assert rule not in out, f"rule {rule} defined in {out[rule][0].name} and {path.name}"
            out[rule] = (path, script)
    return out


def imported_modules(script: Path) -> set[str]:
    """Modules a script imports from (``from a.b import c`` → ``a.b``; ``import a.b`` → ``a.b``)."""
    names = set()
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def layout_faults(rules: dict[str, tuple[Path, str | None]], root: Path = ROOT) -> list[str]:
    """Every way the rules break the one-hop layout, as readable lines (empty: none)."""
    faults = []
    for rule, (rule_file, script) in sorted(rules.items()):
        if script is None:
            continue
        resolved = (rule_file.parent / script).resolve()
        if rule.startswith("plot_"):
            stage = rule.removeprefix("plot_")
            expected = root / "scripts" / f"plot_{stage}.py"
        elif rule in STAGES:
            stage = None
            expected = root / "scripts" / STAGES[rule]
        else:
            faults.append(f"rule {rule} runs {script}: neither a plot rule nor a known stage")
            continue
        if resolved != expected.resolve():
            faults.append(f"rule {rule} runs {script}, expected scripts/{expected.name}")
            continue
        if not expected.is_file():
            faults.append(f"rule {rule}: {script} does not exist")
            continue
        if stage is not None:
            faults.extend(_plot_module_faults(rule, stage, expected, root))
    return faults


def _plot_module_faults(rule: str, stage: str, script: Path, root: Path) -> list[str]:
    module = root / "src" / "hepgen" / "plotting" / f"{stage}.py"
    if not module.is_file():
        return [f"rule {rule}: no module hepgen.plotting.{stage} for its figure code"]
    faults = []
    tree = ast.parse(module.read_text())
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if rule not in functions:
        faults.append(f"rule {rule}: hepgen.plotting.{stage} defines no function {rule}")
    if f"hepgen.plotting.{stage}" not in imported_modules(script):
        faults.append(f"rule {rule}: {script.name} does not import hepgen.plotting.{stage}")
    return faults


RULES = workflow_rules()


def test_the_parser_reads_every_stage_rule_and_its_script() -> None:
    assert set(STAGES) | PLOTS <= set(RULES)
    for rule in (*STAGES, *PLOTS):
        assert RULES[rule][1] is not None, f"rule {rule} has no script"
    assert RULES["train_model"][1] == "../../scripts/train.py"
    assert RULES["plot_preprocessing"][0].name == "plots.smk"


@pytest.mark.parametrize("rule", sorted(STAGES))
def test_stage_rule_runs_the_script_named_after_its_stage(rule: str) -> None:
    rule_file, script = RULES[rule]
    assert script is not None
    path = (rule_file.parent / script).resolve()
    assert path == (ROOT / "scripts" / STAGES[rule]).resolve(), f"{rule} runs {script}"
    assert path.is_file()


@pytest.mark.parametrize("rule", sorted(PLOTS))
def test_plot_rule_runs_its_script_and_module(rule: str) -> None:
    rule_file, script = RULES[rule]
    assert rule_file.name == "plots.smk", f"{rule} sits in {rule_file.name}"
    assert script == f"../../scripts/{rule}.py"
    assert (ROOT / "scripts" / f"{rule}.py").is_file()
    module = rule.removeprefix("plot_")
    assert not _plot_module_faults(rule, module, ROOT / "scripts" / f"{rule}.py", ROOT)


def test_every_plot_rule_is_listed_and_the_layout_has_no_fault() -> None:
    assert {r for r in RULES if r.startswith("plot_")} == PLOTS
    assert layout_faults(RULES) == []


@pytest.mark.parametrize(
    ("rule", "script", "fault"),
    [
        ("plot_histograms", "../../scripts/plot_features.py", "expected scripts/plot_histograms"),
        ("plot_leaderboard", "../../scripts/leaderboard.py", "expected scripts/plot_leaderboard"),
        ("train_model", "../../scripts/fit.py", "expected scripts/train.py"),
        ("ingest_events", "../../scripts/preprocess.py", "expected scripts/ingest.py"),
        ("report_all", "../../scripts/report.py", "neither a plot rule nor a known stage"),
        ("plot_nothing", "../../scripts/plot_nothing.py", "plot_nothing.py does not exist"),
    ],
)
def test_a_rule_pointed_at_another_script_is_a_fault(rule: str, script: str, fault: str) -> None:
    text = f'rule {rule}:\n    input:\n        "a.txt",\n    script:\n        "{script}"\n'
    parsed = parse_rules(text)
    assert parsed == {rule: script}
    rules = {**RULES, rule: (RULES_DIR / "x.smk", script)}
    faults = layout_faults(rules)
    assert len(faults) == 1 and fault in faults[0], faults


def test_a_plot_script_that_skips_its_module_is_a_fault(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "src" / "hepgen" / "plotting").mkdir(parents=True)
    rules_dir = tmp_path / "workflow" / "rules"
    rules_dir.mkdir(parents=True)
    (tmp_path / "scripts" / "plot_x.py").write_text("from hepgen.plotting.y import plot_x\n")
    (tmp_path / "src" / "hepgen" / "plotting" / "x.py").write_text("def plot_y():\n    pass\n")
    rules = {"plot_x": (rules_dir / "plots.smk", "../../scripts/plot_x.py")}
    assert layout_faults(rules, tmp_path) == [
        "rule plot_x: hepgen.plotting.x defines no function plot_x",
        "rule plot_x: plot_x.py does not import hepgen.plotting.x",
    ]
    (tmp_path / "src" / "hepgen" / "plotting" / "x.py").unlink()
    assert layout_faults(rules, tmp_path) == [
        "rule plot_x: no module hepgen.plotting.x for its figure code"
    ]


def test_a_script_on_the_directive_line_is_read() -> None:
    assert parse_rules('rule a:\n    script: "../../scripts/a.py"\n') == {"a": "../../scripts/a.py"}


def rule_block(rule: str) -> str:
    """The text of ``rule``'s definition in its rule file, up to the next rule."""
    text = RULES[rule][0].read_text()
    start = text.index(f"rule {rule}:")
    end = text.find("\nrule ", start + 1)
    return text[start : end if end >= 0 else None]


@pytest.mark.parametrize("rule", sorted(PLOTS))
def test_plot_rule_writes_the_figure_named_after_it(rule: str) -> None:
    outputs = re.findall(r"[\w{}/]+\.png", rule_block(rule))
    assert outputs, f"{rule} declares no figure"
    assert {Path(o).name for o in outputs} == {rule.removeprefix("plot_") + ".png"}, outputs
