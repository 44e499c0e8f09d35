"""The published numbers the tables compare with (docs/paper-choices.md), as data with their sources.

Only what the paper and XTREME publish is here. A language missing from a row means the number is not published (or not
public to us): the tables leave that cell empty rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robustxlt.training.kinds import paper_kinds

PAPER_SOURCE = "Huang et al., EMNLP 2021 (arXiv 2104.08645), results slide"
XTREME_SOURCE = "Hu et al., XTREME (ICML 2020), published baseline, as quoted by Huang et al."
# The hub ids of the paper's two encoders, so a caller can tell from a model's source which published rows apply.
PAPER_MODELS = {"bert-base-multilingual-cased": "mbert", "xlm-roberta-large": "xlmr-large"}


@dataclass(frozen=True)
class PublishedRow:
    """One published row: accuracy in percent per language (and "avg"), and which of our method kinds it matches."""

    label: str
    kind: str | None  # our method kind this row is the paper's run of; None for an outside reference (XTREME)
    source: str
    accuracy: dict[str, float] = field(default_factory=dict)


def _row(label: str, kind: str | None, source: str, values: list[float] | None = None) -> PublishedRow:
    languages = ["en", "de", "es", "fr", "ja", "ko", "zh", "avg"]
    return PublishedRow(label, kind, source, dict(zip(languages, values)) if values else {})


def _paper_rows(values: dict[str, list[float]] | None = None) -> list[PublishedRow]:
    """The paper's four rows in its order; without values they stand as rows whose numbers are not public."""
    values = values or {}
    return [
        _row(f"paper: {kind.paper_label}", kind.name, PAPER_SOURCE, values.get(kind.name)) for kind in paper_kinds()
    ]


PUBLISHED: dict[tuple[str, str], tuple[PublishedRow, ...]] = {
    ("pawsx", "mbert"): (
        _row("XTREME: mBERT (published)", None, XTREME_SOURCE, [94.0, 85.7, 87.4, 87.0, 73.0, 69.6, 77.0, 82.0]),
        *_paper_rows(
            {
                "baseline": [93.7, 85.4, 88.2, 87.8, 75.3, 74.2, 79.1, 83.4],
                "adversarial": [93.7, 86.5, 88.5, 87.8, 76.1, 75.3, 80.4, 84.0],
                "random_perturbation": [94.5, 87.4, 90.0, 89.5, 77.9, 77.5, 82.0, 85.5],
                "synonym_augmentation": [93.5, 87.8, 88.8, 88.8, 79.3, 78.3, 81.5, 85.4],
            }
        ),
    ),
    ("pawsx", "xlmr-large"): (
        _row("XTREME: XLM-R large (published)", None, XTREME_SOURCE, [94.7, 89.7, 90.1, 90.4, 78.7, 79.0, 82.3, 86.4]),
        *_paper_rows(),
    ),
    ("xnli", "mbert"): tuple(_paper_rows()),
    ("xnli", "xlmr-large"): tuple(_paper_rows()),
}


def published_rows(task: str, paper_model: str) -> tuple[PublishedRow, ...]:
    """The published rows of `task` for one of the paper's encoders ("mbert" or "xlmr-large")."""
    if paper_model not in PAPER_MODELS.values():
        raise ValueError(f"unknown paper model {paper_model!r}; known: {', '.join(PAPER_MODELS.values())}")
    return PUBLISHED.get((task, paper_model), ())


def paper_model(model_source: str) -> str | None:
    """The paper's encoder a config model source (e.g. "hub:google-bert/bert-base-multilingual-cased") is, if any."""
    if not model_source.startswith("hub:"):
        return None
    return PAPER_MODELS.get(model_source.removeprefix("hub:").split("/")[-1])
