"""The method kinds a configuration's `methods.<name>.kind` may name, and their traits: the one registry that
training (make_method), the rules (which runs train on augmented data), the schema (its `kind` enum, equal by
test) and the analysis (the baseline, the paper's rows) read. Without torch: the Snakefile reads it while
building the DAG."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodKind:
    name: str
    # Trains on a synonym-augmented copy of train-en.tsv (the augment rule writes it) instead of the task's file.
    trains_on_augmented_data: bool
    # Trains with a perturbation δ on the input (or hidden) embeddings.
    perturbs_embeddings: bool
    # The paper's name of this method and the position of its row in the paper's tables; None: not in the paper.
    paper_label: str | None = None
    paper_row: int | None = None


BASELINE = "baseline"

KINDS: dict[str, MethodKind] = {
    kind.name: kind
    for kind in (
        MethodKind(BASELINE, trains_on_augmented_data=False, perturbs_embeddings=False,
                   paper_label="baseline (paper's run)", paper_row=0),
        MethodKind("synonym_augmentation", trains_on_augmented_data=True, perturbs_embeddings=False,
                   paper_label="RS-DA", paper_row=3),
        MethodKind("adversarial", trains_on_augmented_data=False, perturbs_embeddings=True,
                   paper_label="adversarial training", paper_row=1),
        MethodKind("random_perturbation", trains_on_augmented_data=False, perturbs_embeddings=True,
                   paper_label="RS-RP", paper_row=2),
        MethodKind("freelb", trains_on_augmented_data=False, perturbs_embeddings=True),
        MethodKind("consistency", trains_on_augmented_data=False, perturbs_embeddings=True),
        MethodKind("lp_ft", trains_on_augmented_data=False, perturbs_embeddings=False),
    )
}  # fmt: skip


def method_kind(name: str) -> MethodKind:
    """The registered kind `name`; ValueError naming the known ones otherwise."""
    if name not in KINDS:
        raise ValueError(f"unknown method kind {name!r}; known: {', '.join(KINDS)}")
    return KINDS[name]


def paper_kinds() -> list[MethodKind]:
    """The kinds the paper reports, in the order of its tables' rows."""
    return sorted((kind for kind in KINDS.values() if kind.paper_row is not None), key=lambda kind: kind.paper_row)
