"""The paper's results table (languages as columns, then the average) rendered from metrics.csv alone."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from robustxlt.lexical_overlap import REFERENCE_MODEL

SETUP_NOTES = {
    "paper": "the paper's setup",
    "embedded": "EMBEDDED PROXY (offline demo data and model), not the paper's PAWS-X/XNLI with mBERT/XLM-R",
    "smoke": "SMOKE TEST (tiny budget), numbers carry no meaning beyond checking the pipeline",
    "custom": "a custom setup",
}


def _cell(values: pd.Series) -> str:
    mean = 100 * values.mean()
    return f"{mean:.1f} ± {100 * values.std(ddof=1):.1f}" if len(values) > 1 else f"{mean:.1f}"


def method_row(runs: pd.DataFrame, languages: list[str]) -> dict[str, str]:
    """One row: per-language accuracy (mean ± std over seeds) and the average over languages."""
    standard = runs[runs.lang1 == runs.lang2]
    by_seed = standard.pivot_table(index="seed", columns="lang1", values="accuracy")
    row = {lang: _cell(by_seed[lang]) if lang in by_seed else "" for lang in languages}
    complete = by_seed.reindex(columns=languages).dropna()
    row["avg"] = _cell(complete.mean(axis=1)) if len(complete) else ""
    row["seeds"] = str(len(by_seed))
    return row


def write_results_table(
    metrics_file: Path, task: str, model: str, languages: list[str], methods: list[str], setup: str, out_file: Path
) -> str:
    """Write the Markdown table of one (task, model) and return its text."""
    metrics = pd.read_csv(metrics_file)
    runs = metrics[(metrics.task == task) & (metrics.model == model)]
    if runs.empty:
        raise ValueError(f"{metrics_file} has no rows for task {task!r} and model {model!r}")
    header = ["method", *languages, "avg", "seeds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method in methods:
        row = method_row(runs[runs.method == method], languages)
        lines.append("| " + " | ".join([method, *(row[c] for c in header[1:])]) + " |")
    reference = metrics[(metrics.task == task) & (metrics.model == REFERENCE_MODEL)]
    if not reference.empty:
        row = method_row(reference, languages)
        lines.append("| " + " | ".join(["lexical overlap (no model)", *(row[c] for c in header[1:-1]), "–"]) + " |")
    model_description = runs.model_description.iloc[0]
    data_description = runs.data_description.iloc[0]
    caption = (
        f"**{task} / {model}: zero-shot accuracy (%)**, trained on English only, best checkpoint on English dev; "
        f"mean ± std over seeds. Setup: {SETUP_NOTES[setup]}.\n\n"
        f"- Model: {model_description}\n- Data: {data_description}\n"
    )
    text = caption + "\n" + "\n".join(lines) + "\n"
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(out_file).with_name(Path(out_file).name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, out_file)
    return text
