"""Each rule's cluster limits (memory and wall time of its first attempt; a retry gets that times the attempt) and
where it runs: the one registry the rules' `resources` and the cost plan (robustxlt.pipeline.cost_plan) read, so
that a limit and the estimate it is checked against never drift apart. Without torch: the Snakefile reads it.

The GPU rules are the ones that run the encoder; the Slurm profile (profiles/slurm/config.yaml) sends exactly these
to its GPU partition (a test keeps the two equal). Rules not listed take the profile's default-resources."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    mem_mb: int  # host memory (sbatch --mem) of the first attempt
    runtime: int  # minutes of the first attempt
    gpu: bool = False  # runs the encoder: a GPU job on a cluster

    def by_attempt(self, key: str):
        """A Snakemake resource callable: the first attempt's value times the attempt."""
        value = getattr(self, key)
        return lambda wildcards, attempt: value * attempt


# Train: XNLI RS-DA at 3 copies is about 37,000 optimizer steps of 32 pairs; with save_every_minutes a job killed
# at its limit resumes where it was (the cost plan checks every training against the first attempt's limit).
RULE_LIMITS: dict[str, Limits] = {
    "train": Limits(mem_mb=16000, runtime=480, gpu=True),
    "evaluate": Limits(mem_mb=8000, runtime=120, gpu=True),
    "frozen_test_states": Limits(mem_mb=8000, runtime=60, gpu=True),
    "premise_pretrained": Limits(mem_mb=8000, runtime=60, gpu=True),
    "encode_test_sets": Limits(mem_mb=4000, runtime=60),
    "encode_training_sets": Limits(mem_mb=8000, runtime=60),
}

# The Slurm profile's default-resources for every other rule (profiles/slurm/config.yaml).
DEFAULT_LIMITS = Limits(mem_mb=4000, runtime=30)


def rule_limits(rule: str) -> Limits:
    return RULE_LIMITS.get(rule, DEFAULT_LIMITS)


def gpu_rules() -> list[str]:
    return sorted(rule for rule, limits in RULE_LIMITS.items() if limits.gpu)
