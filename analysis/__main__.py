"""The command line: python -m analysis <command> ...

Each command lives in its own module under analysis/cli/, which exposes ``configure(parser)`` and ``run(args) -> int``.
Modules are imported only when their command runs, so ``python -m analysis ingest`` never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("analysis.cli.ingest", "Load the release CSV/Parquet (or the hub) into a DuckDB database"),
    "demo": ("analysis.cli.demo", "Build the synthetic demo dataset and load it through ingest"),
    "embed": ("analysis.cli.embed", "Embed candidate responses and prompts (cached by model and content hash)"),
    "embed-job": ("analysis.cli.embed_job", "The full embedding as a resumable background job (sample first)"),
    "project": ("analysis.cli.project", "Fit and store a 2-D UMAP projection of the embeddings"),
    "axes": ("analysis.cli.axes", "Score texts on the Inglehart-Welzel value axes; their held-out accuracy"),
    "prepare": ("analysis.cli.prepare", "Run the pipeline's steps in order: embed, score on the axes, map"),
    "llm": ("analysis.cli.llm", "Load a CSV of LLM answers (model, prompt, response) into the database"),
    "sql": ("analysis.cli.sql", "Run one read-only SQL query against a database (same guard as the app)"),
    "sample": ("analysis.cli.sample", "Evaluate a candidate-sampling strategy on the value plane"),
    "simulate": ("analysis.cli.simulate", "Simulate heterogeneous annotators and reward-model recovery"),
    "prefs": ("analysis.cli.prefs", "Fit preference models on the data's choices: pooled, per group, held-out people"),
    "workshop": ("analysis.cli.workshop", "Serve the explorer to a room on the local network (address and QR code)"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or only == name:
            module = importlib.import_module(module_name)
            module.configure(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        build_parser(only="").print_help()
        return 0 if command is None and ("-h" in argv or "--help" in argv or not argv) else 2
    parser = build_parser(only=command)
    args = parser.parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
