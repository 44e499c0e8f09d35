"""The cost plan: before anything is submitted, every encoder job of a configuration with its expected compute,
time and memory on a named device class, beside its rule's limits (robustxlt.pipeline.limits); the jobs whose
estimate passes a limit are flagged and the grid's GPU-hours summed. Once jobs have finished, the plan calibrates
itself from the run's own benchmark files (results/benchmarks/) and says how well the calibrated model predicts them.

    python -m robustxlt.pipeline.cost_plan --configfile presets/paper.yaml [--device a100-80gb] [--out plan.tsv]

The arithmetic is robustxlt.pipeline.cost_model's; docs/cluster.md shows the plan of presets/paper.yaml.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from robustxlt.models.shape import model_shape
from robustxlt.pipeline.config import (
    generalized_languages,
    method_variants,
    task_languages,
    training_settings,
)
from robustxlt.pipeline.cost_model import (
    DEFAULT_DEVICE,
    DEFAULT_UTILISATION,
    DEVICES,
    Device,
    device_seconds,
    fit_nonnegative,
)
from robustxlt.pipeline.data_sizes import TaskSizes, task_sizes, tokens_per_pair
from robustxlt.pipeline.limits import rule_limits
from robustxlt.training.settings import TrainingSettings


@dataclass(frozen=True)
class Job:
    rule: str
    name: str  # the job's wildcards, as its benchmark file names them
    rows: int  # pairs read and tokenised
    flops: float
    device_bytes: float
    precision: str  # as configured (auto, fp32, bf16, fp16): the device class resolves it


def _training_job(task: str, model: str, variant: tuple[str, dict], seed: int, context: dict) -> Job:
    from robustxlt.training.methods import make_method

    settings = context["settings"]
    method = make_method(variant[1])
    shape, sizes, tokens = context["shape"], context["sizes"], context["tokens"]
    copies = getattr(method, "copies", 1)
    effective_batch = settings.batch_size * settings.gradient_accumulation
    steps = settings.total_steps(math.ceil(sizes.train * copies / effective_batch))
    trainable = (shape.layers - settings.freeze_layers) / shape.layers
    # A cached frozen prefix is computed once; otherwise every step runs it forward (no backward through it).
    per_pass = 3 * trainable if settings.cache_frozen_layers else 1 + 2 * trainable
    forward = shape.forward_flops(tokens)
    flops = steps * effective_batch * tokens * forward * per_pass * method.passes()
    evaluations = math.ceil(steps / settings.eval_every)
    flops += evaluations * sizes.dev * tokens * forward * (trainable if settings.cache_frozen_layers else 1)
    if method.injection == "hidden":  # the hidden-state unit: one forward pass over a sample of English train
        flops += min(settings.unit_examples or sizes.train, sizes.train) * tokens * forward
    rows = sizes.train * copies + sizes.dev + (sizes.train if copies > 1 else 0)
    memory = shape.training_bytes(settings.batch_size, settings.max_length)
    return Job("train", f"{task}/{model}/{variant[0]}/seed{seed}", rows, flops, memory, settings.precision)


def _evaluated_rows(config: dict, task: str, sizes: TaskSizes) -> int:
    """Test pairs of one evaluation: every language's test set, then every ordered pair of the generalized grid."""
    languages = len(generalized_languages(config, task))
    pairs = languages * (languages - 1)
    per_pair = config["tasks"][task]["generalized"].get("max_examples") or sizes.test
    return len(task_languages(config, task)) * sizes.test + pairs * min(per_pair, sizes.test)


def _evaluation_job(config: dict, task: str, model: str, run: str, context: dict) -> Job:
    shape, sizes, tokens = context["shape"], context["sizes"], context["tokens"]
    rows = _evaluated_rows(config, task, sizes)
    draws = config["evaluation"].get("smoothing", {}).get("draws", 0)
    flops = rows * tokens * shape.forward_flops(tokens) * (1 + draws)
    memory = shape.inference_bytes(config["evaluation"]["batch_size"], context["settings"].max_length)
    return Job("evaluate", f"{task}/{model}/{run}", rows, flops, memory, config["evaluation"]["precision"])


def _premise_job(config: dict, task: str, model: str, context: dict) -> Job:
    shape, sizes, tokens, settings = context["shape"], context["sizes"], context["tokens"], context["settings"]
    rows = min(settings.unit_examples or sizes.train, sizes.train) + len(task_languages(config, task)) * sizes.test
    memory = shape.inference_bytes(config["evaluation"]["batch_size"], settings.max_length)
    flops = rows * tokens * shape.forward_flops(tokens)
    return Job("premise_pretrained", f"{task}/{model}", rows, flops, memory, "fp32")  # the premise measures in fp32


def _costliest(variants: dict[str, dict]) -> str:
    """The variant a plan assumes for the seeds after the selection, before the selection exists: the costliest."""
    from robustxlt.training.methods import make_method

    return max(variants, key=lambda name: make_method(variants[name]).passes() * variants[name].get("copies", 1))


def grid_jobs(config: dict, root: Path = Path(".")) -> tuple[list[Job], dict]:
    """Every training, evaluation and premise job of `config` (sweeps: every variant on the first seed, the chosen
    one on the others, or the costliest before the choice), and what each estimate was read from."""
    from robustxlt.training.sweep import chosen_variant

    jobs, origins = [], {}
    for task in config["tasks"]:
        sizes = task_sizes(config, task, root)
        origins[f"rows of {task}"] = sizes.origin
        for model, model_cfg in config["models"].items():
            shape = model_shape(model_cfg["source"], root / "resources" / "models" / model)
            settings = TrainingSettings.from_dict(training_settings(config, task, model))
            tokens, how = tokens_per_pair(root, task, model, settings.max_length)
            origins[f"shape of {model}"] = shape.origin
            origins[f"tokens per pair of {task}/{model}"] = how
            context = {"shape": shape, "sizes": sizes, "tokens": tokens, "settings": settings}
            for method in config["methods"]:
                variants = method_variants(config, task, method)
                selection = root / "results" / task / model / method / "selection.json"
                chosen = method
                if len(variants) > 1:
                    chosen = chosen_variant(selection) if selection.exists() else _costliest(variants)
                for seed in config["seeds"]:
                    trained = variants if seed == config["seeds"][0] else {chosen: variants[chosen]}
                    jobs += [_training_job(task, model, variant, seed, context) for variant in trained.items()]
                    jobs.append(_evaluation_job(config, task, model, f"{chosen}/seed{seed}", context))
            jobs.append(_premise_job(config, task, model, context))
    return jobs, origins


def _benchmark_seconds(benchmarks: Path, job: Job) -> tuple[float, float] | None:
    path = benchmarks / job.rule / f"{job.name}.tsv"
    if not path.exists():
        return None
    row = pd.read_csv(path, sep="\t").iloc[0]
    return float(row["s"]), float(row["max_rss"])


def calibrate(jobs: list[Job], benchmarks: Path) -> dict[str, dict]:
    """Per rule, from the jobs that have a benchmark file: seconds = start-up + per row + per FLOP (every
    coefficient ≥ 0, least squares), and how far the fit is off on each job when that job is left out of it."""
    measured = {job: _benchmark_seconds(benchmarks, job) for job in jobs}
    fits = {}
    for rule in sorted({job.rule for job in jobs}):
        done = [job for job in jobs if job.rule == rule and measured[job] is not None]
        if len(done) < 2:
            continue
        features = [[1.0, job.rows, job.flops] for job in done]
        seconds = [measured[job][0] for job in done]
        ratios = []
        for left_out in range(len(done)) if len(done) >= 4 else []:
            keep = [i for i in range(len(done)) if i != left_out]
            coef = fit_nonnegative([features[i] for i in keep], [seconds[i] for i in keep])
            predicted = sum(c * f for c, f in zip(coef, features[left_out], strict=True))
            ratios.append(predicted / seconds[left_out])
        fits[rule] = {"coef": fit_nonnegative(features, seconds), "jobs": len(done), "ratios": ratios}
    return fits


def plan_table(jobs: list[Job], device: Device, utilisation: float, fits: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for job in jobs:
        limits = rule_limits(job.rule)
        if job.rule in fits:
            start, per_row, per_flop = fits[job.rule]["coef"]
            seconds, basis = start + per_row * job.rows + per_flop * job.flops, "calibrated"
        else:
            peak = device.peak(job.precision)
            seconds, basis = device_seconds(job.flops, job.rows, peak, utilisation), device.precision(job.precision)
        flags = []
        if seconds / 60 > limits.runtime:
            flags.append("time")
        if limits.gpu and job.device_bytes / 1e9 > device.memory_gb:
            flags.append("device memory")
        rows.append(
            {
                "rule": job.rule,
                "job": job.name,
                "rows": job.rows,
                "tflop": job.flops / 1e12,
                "minutes": seconds / 60,
                "basis": basis,
                "runtime": limits.runtime,
                "device_gb": job.device_bytes / 1e9,
                "mem_mb": limits.mem_mb,
                "gpu": limits.gpu,
                "flag": ", ".join(flags),
            }
        )
    return pd.DataFrame(rows)


def summary_lines(table: pd.DataFrame, device: Device, utilisation: float, fits: dict, origins: dict) -> list[str]:
    """Per rule: jobs, the largest estimate against the limit; the flagged jobs; the GPU-hours; the assumptions."""
    peaks = ", ".join(f"{precision} {peak / 1e12:,.1f}" for precision, peak in device.peaks.items())
    lines = [f"Cost plan on {device.name} (peak TFLOP/s: {peaks}) at {utilisation:.0%} of its peak", ""]
    lines.append("| rule | jobs | largest estimate (min) | limit (min) | largest device memory (GB) | flagged |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for rule, group in table.groupby("rule", sort=False):
        lines.append(
            f"| {rule} | {len(group)} | {group['minutes'].max():,.1f} | {group['runtime'].iloc[0]} | "
            f"{group['device_gb'].max():.1f} | {(group['flag'] != '').sum()} |"
        )
    gpu_hours = table.loc[table["gpu"], "minutes"].sum() / 60
    where = "as calibrated on the machine that ran them" if fits else "GPU-hours on this device class"
    lines += ["", f"Hours of the grid's {len(table)} encoder jobs, {where}: {gpu_hours:,.1f}"]
    for _, job in table[table["flag"] != ""].iterrows():
        estimate = f"{job['minutes']:,.0f} min, {job['device_gb']:.1f} GB"
        lines.append(f"FLAGGED {job['rule']} {job['job']}: {job['flag']} ({estimate})")
    for rule, fit in fits.items():
        spread = (
            f"left-out jobs predicted at {min(fit['ratios']):.2f}-{max(fit['ratios']):.2f}x their measured time"
            if fit["ratios"]
            else "too few jobs to check the fit"
        )
        start, per_row, per_flop = fit["coef"]
        rate = f"{1 / per_flop / 1e9:,.1f} GFLOP/s" if per_flop else "no FLOP term"
        lines.append(f"calibrated {rule} on {fit['jobs']} finished jobs: start {start:.1f} s, {rate}; {spread}")
    lines += ["", *(f"{what}: {origin}" for what, origin in origins.items())]
    return lines


def load_configuration(config_files: list[str]) -> dict:
    """The configuration a `snakemake --configfile ...` run would use: config.yaml, or the given files merged in
    order (a file without setup takes the default's recipe), validated."""
    from snakemake.utils import update_config

    from robustxlt.pipeline.config import load_config_file, validate_config, with_default_recipe

    config: dict = {}
    for path in config_files or ["config.yaml"]:
        update_config(config, load_config_file(Path(path)))
    with_default_recipe(config, load_config_file(Path("config.yaml")))
    return validate_config(config, source=", ".join(config_files) or "config.yaml")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", nargs="*", default=[], help="as snakemake's (default: config.yaml)")
    parser.add_argument("--device", choices=sorted(DEVICES), default=DEFAULT_DEVICE)
    parser.add_argument("--utilisation", type=float, default=DEFAULT_UTILISATION, help="share of the peak reached")
    parser.add_argument("--benchmarks", type=Path, default=Path("results/benchmarks"), help="calibrate from these")
    parser.add_argument("--out", type=Path, help="write every job's estimate here (TSV)")
    args = parser.parse_args(argv)
    config = load_configuration(args.configfile)
    jobs, origins = grid_jobs(config)
    fits = calibrate(jobs, args.benchmarks) if args.benchmarks.exists() else {}
    table = plan_table(jobs, DEVICES[args.device], args.utilisation, fits)
    if args.out:
        table.to_csv(args.out, sep="\t", index=False, float_format="%.4g")
    print("\n".join(summary_lines(table, DEVICES[args.device], args.utilisation, fits, origins)))
    return 1 if (table["flag"] != "").any() else 0


if __name__ == "__main__":
    sys.exit(main())
