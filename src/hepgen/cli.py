"""The ``hepgen`` command: sample, inspect and export trained generator files.

``hepgen sample PATH -n N -o FILE`` draws events into Parquet (the event table) or ROOT (the
dataset's input schema); a conditional generator takes ``--condition FILE`` (one event per
row, ``-n`` events per row when given); ``hepgen info PATH`` describes a generator file;
``hepgen export PATH -o FILE.onnx`` writes an ONNX graph. Errors are one line on stderr and a
non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from hepgen.errors import HepgenError

__all__ = ["main"]

#: Output suffixes ``hepgen sample`` writes, and condition files it reads.
SUFFIXES = (".parquet", ".root")


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line (``hepgen sample: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be a positive integer, found {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        msg = f"must be a number from 0 to 1, found {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hepgen", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sample = commands.add_parser(
        "sample",
        help="draw events into a Parquet or ROOT file",
        description="Draw events in physical units (GeV, rad), repaired and held to the "
        "dataset's selection. .parquet: the event table (zero-padded objects); .root: a TTree "
        "in the dataset's input schema with a weight branch (sigma * efficiency / N in pb "
        "where the cross section is known, else 1). A generator with a reweighter (a model with "
        "refine) adds the classifier weight, mean 1 over the drawn events: a weight column, and "
        "a factor in the weight branch. A conditional generator needs --condition: a file "
        "whose rows hold the condition columns (hepgen info lists them) in physical units; it "
        "draws one event per row, or -n events per row, and writes each event beside its "
        "condition values (condition_<name> columns or branches, and condition_row, the row it "
        "was drawn for); its ROOT weight branch is 1.",
    )
    sample.add_argument("path", help="a generator file (generator.pt)")
    sample.add_argument(
        "-n",
        "--events",
        type=_positive,
        default=None,
        help="events to draw; with --condition: events per condition row (default 1)",
    )
    sample.add_argument("-o", "--output", required=True, help="output file: .parquet or .root")
    sample.add_argument(
        "--condition",
        default=None,
        metavar="FILE",
        help="conditional generators: a .parquet or .root file of condition rows",
    )
    sample.add_argument(
        "--tree",
        default=None,
        help="the TTree of a .root condition file (default: the dataset's tree)",
    )
    sample.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    sample.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    sample.add_argument("--batch-size", type=_positive, default=100_000, help="events per batch")
    sample.add_argument(
        "--max-removed-fraction",
        type=_fraction,
        default=1.0,
        help="fail when more than this fraction of the events is removed (default 1: never)",
    )
    sample.add_argument("--force", action="store_true", help="overwrite an existing output")
    info = commands.add_parser(
        "info",
        help="describe a generator file",
        description="Print the model type, features, training summary, cross section, metrics "
        "(from the workflow's metrics/<model>.json beside the models folder) and provenance.",
    )
    info.add_argument("path", help="a generator file (generator.pt)")
    info.add_argument("--json", action="store_true", help="print one JSON object instead")
    export = commands.add_parser(
        "export", help="write the generator as ONNX", description="Export to an ONNX file."
    )
    export.add_argument("path", help="a generator file (generator.pt)")
    export.add_argument("-o", "--output", required=True, help="output .onnx file")
    export.add_argument("--force", action="store_true", help="overwrite an existing output")
    return parser


def _check_output(output: str, suffixes: Sequence[str], force: bool) -> Path:
    path = Path(output)
    if path.suffix.lower() not in suffixes:
        found = path.suffix or "no suffix"
        msg = f"output {output}: cannot write {found!r}; expected one of {list(suffixes)}"
        raise HepgenError(msg)
    if path.exists() and not force:
        msg = f"output {output} exists; pass --force to overwrite it"
        raise HepgenError(msg)
    return path


def _sample(args: argparse.Namespace) -> None:
    output = _check_output(args.output, SUFFIXES, args.force)
    from hepgen.generator import load_generator

    generator = load_generator(args.path)
    options: dict[str, Any] = {
        "seed": args.seed,
        "batch_size": args.batch_size,
        "device": args.device,
        "max_removed_fraction": args.max_removed_fraction,
    }
    if generator.condition_columns:
        if args.condition is None:
            msg = (
                f"generator {args.path} is conditional: give --condition FILE.parquet|FILE.root "
                f"with the columns {generator.condition_columns} (physical units)"
            )
            raise HepgenError(msg)
        options["condition"] = read_condition(args.condition, generator, args.tree)
        options["per_row"] = args.events is not None
    elif args.condition is not None:
        msg = f"generator {args.path} is unconditional: it takes no --condition"
        raise HepgenError(msg)
    elif args.events is None:
        raise HepgenError("-n/--events is required (the number of events to draw)")
    start = time.perf_counter()
    batches = generator.iter_sample(args.events, **options)
    if generator.reweighter is not None:
        batches = _normalised(batches, output)
    if output.suffix.lower() == ".root":
        from hepgen.generator import event_weight

        # a conditional draw follows the given rows, not the dataset's cross section
        weight = 1.0
        if not generator.condition_columns:
            weight = event_weight(generator.cross_section, args.events)
        with _root_writer(output, generator) as writer:
            for table in batches:
                writer.write(table, weight)
    else:
        import pyarrow as pa

        from hepgen.io import write_stream

        write_stream(output, (pa.Table.from_pandas(t, preserve_index=False) for t in batches))
    seconds = time.perf_counter() - start
    validity = generator.last_validity or {}
    drawn = generator.last_info["drawn"]
    kept = drawn - validity.get("removed", 0)
    given = f" for {len(options['condition'])} condition rows" if "condition" in options else ""
    print(
        f"wrote {kept} events{given} to {output} in {seconds:.2f} s ({drawn / seconds:.0f} "
        f"events/s, seed {generator.last_info['seed']}); removed {validity.get('removed', 0)}: "
        f"{ {k: v for k, v in validity.get('reasons', {}).items() if v} }"
    )


def read_condition(path: str, generator: Any, tree: str | None = None) -> Any:
    """The condition rows of ``path`` (.parquet, or a flat TTree ``tree`` of a .root file;
    default the dataset's tree) for ``generator``: its condition columns as
    :meth:`Generator.sample` takes them.

    Raises:
        HepgenError: one line naming ``path`` and what is wrong (missing file or columns,
            unreadable, NaN values).
    """
    from hepgen.condition_draw import condition_table
    from hepgen.condition_rows import read_condition_file

    where = f"condition file {path}"
    names = generator.condition_columns
    table = read_condition_file(path, names, tree or generator.spec.tree, where)
    return condition_table(table, generator.conditioning, where)


def _root_writer(output: Path, generator: Any) -> Any:
    """A :class:`~hepgen.io.writer.RootWriter` in the dataset's schema that also writes a
    conditional draw's ``condition_<name>`` and ``condition_row`` columns as flat branches."""
    from hepgen.io.writer import RootWriter

    extra = [c for c in generator.columns if c not in generator.transform.columns]
    return RootWriter(output, generator.spec, extra)


def _normalised(batches: Iterator[Any], output: Path) -> Iterator[Any]:
    """The batches with their ``weight`` column over its mean over all of them.

    The batches are staged in a Parquet file beside ``output`` and read back row group by
    row group, so memory stays bounded and the weights are :meth:`Generator.sample`'s.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hepgen.io import write_stream

    total, count = [0.0], [0]

    def staged(batch: Any) -> pa.Table:
        total[0] += float(batch["weight"].sum())
        count[0] += len(batch)
        return pa.Table.from_pandas(batch, preserve_index=False)

    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{output.name}.", dir=output.parent) as folder:
        stage = Path(folder) / "events.parquet"
        write_stream(stage, (staged(b) for b in batches))
        mean = total[0] / count[0] if count[0] else 1.0
        if not mean > 0:
            msg = "every drawn event got weight 0 (the reweighter finds no truth-like event)"
            raise HepgenError(msg)
        parquet = pq.ParquetFile(stage)
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group).to_pandas()
            yield table.assign(weight=table["weight"].to_numpy() / mean)


def metrics_path(path: str | os.PathLike) -> Path:
    """Where the workflow writes the metrics of the generator ``results/<dataset>/models/<model>/
    generator.pt``: ``results/<dataset>/metrics/<model>.json``."""
    path = Path(path).resolve()
    return path.parent.parent.parent / "metrics" / f"{path.parent.name}.json"


def describe(path: str | os.PathLike) -> dict[str, Any]:
    """The facts ``hepgen info`` prints, as plain values."""
    from hepgen.generator import load_generator

    generator = load_generator(path)
    history = generator.training.get("history", [])
    losses = [row.get("val_loss") for row in history if row.get("val_loss") is not None]
    training = {
        "epochs": len(history),
        "final": {k: v for k, v in (history[-1] if history else {}).items() if "loss" in k},
        "best_val_loss": min(losses) if losses else None,
    }
    found = metrics_path(path)
    metrics = None
    if found.is_file():
        data = json.loads(found.read_text())
        metrics = {k: v for k, v in data.items() if isinstance(v, dict) and "value" in v}
    return {
        "path": os.fspath(path),
        "version": generator.version,
        "type": generator.type,
        "params": generator.params,
        "features": generator.features,
        "columns": generator.columns,
        "collections": [o.name for o in generator.spec.objects],
        "conditions": generator.condition_columns,
        "condition_outputs": generator.condition_outputs(),
        "cross_section": generator.cross_section,
        "training": training,
        "metrics": metrics,
        "metrics_file": os.fspath(found) if metrics is not None else None,
        "reweighter": _reweighter_facts(generator.reweighter),
        "provenance": generator.provenance,
    }


def _reweighter_facts(reweighter: Any) -> dict[str, Any] | None:
    """Folds, trees, clip and the refine stage's effective sample size, or ``None``."""
    if reweighter is None:
        return None
    record = reweighter.record
    return {
        "folds": len(reweighter.classifiers),
        "trees": sum(len(t.roots) for t in reweighter.classifiers),
        "clip": reweighter.clip,
        **{k: record.get(k) for k in ("ess", "ess_fraction", "clipped", "n_generated")},
    }


def _info(args: argparse.Namespace) -> None:
    facts = describe(args.path)
    if args.json:
        print(json.dumps(facts, indent=2, default=str))
        return
    lines = [
        f"file:        {facts['path']} (layout version {facts['version']})",
        f"type:        {facts['type']} {json.dumps(facts['params'])}",
        f"features:    {len(facts['features'])}: {', '.join(facts['features'])}",
        f"columns:     {', '.join(facts['columns'])}",
        f"collections: {', '.join(facts['collections']) or 'none'}",
        f"conditions:  {_conditions_line(facts)}",
        f"cross section: {json.dumps(facts['cross_section'])}",
    ]
    training = facts["training"]
    final = ", ".join(f"{k} {v:.4g}" for k, v in training["final"].items() if v is not None)
    best = training["best_val_loss"]
    lines.append(
        f"training:    {training['epochs']} epochs; last {final or 'n/a'}"
        + (f"; best val_loss {best:.4g}" if best is not None else "")
    )
    if facts["metrics"] is None:
        lines.append(f"metrics:     none found at {metrics_path(args.path)}")
    else:
        lines.append(f"metrics:     {facts['metrics_file']}")
        for name, m in facts["metrics"].items():
            err = f" ± {m['err']:.3g}" if m.get("err") is not None else ""
            floor = f" (floor {m['floor']:.3g})" if m.get("floor") is not None else ""
            value = f"{m['value']:.4g}" if isinstance(m["value"], int | float) else m["value"]
            lines.append(f"  {name}: {value}{err}{floor}")
    lines.append(f"reweighter:  {_reweighter_line(facts['reweighter'])}")
    lines.append(f"provenance:  {json.dumps(facts['provenance'], default=str)}")
    print("\n".join(lines))


def _conditions_line(facts: dict[str, Any]) -> str:
    if not facts["conditions"]:
        return "none (unconditional)"
    returned = ", ".join(f"{c} as {o}" for c, o in facts["condition_outputs"].items())
    return (
        f"{', '.join(facts['conditions'])} (given in physical units by sample --condition; "
        f"returned {returned}, with condition_row)"
    )


def _reweighter_line(facts: dict[str, Any] | None) -> str:
    if facts is None:
        return "none (unweighted events)"
    line = f"{facts['folds']}-fold boosted trees ({facts['trees']} trees), clip {facts['clip']:g}"
    if facts.get("ess") is not None and facts.get("n_generated"):
        line += (
            f"; at refine time ESS {facts['ess']:.0f} of {facts['n_generated']} events "
            f"({100 * facts['ess_fraction']:.1f} %), {facts['clipped']} clipped"
        )
    return line


def _export(args: argparse.Namespace) -> None:
    output = _check_output(args.output, (".onnx",), args.force)
    from hepgen.generator import load_generator

    generator = load_generator(args.path)
    try:
        from hepgen.export import export_onnx
    except ModuleNotFoundError as err:
        msg = f"ONNX export is not available in this installation ({err})"
        raise HepgenError(msg) from err
    export_onnx(generator, output)
    print(f"wrote {output}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hepgen`` command; returns the exit status (0 on success)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="hepgen: %(message)s")
    logging.getLogger("hepgen.sampling").setLevel(logging.ERROR)  # the summary line says it
    try:
        {"sample": _sample, "info": _info, "export": _export}[args.command](args)
    except HepgenError as err:
        print(f"hepgen {args.command}: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"hepgen {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"hepgen {args.command}: interrupted; no output written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
