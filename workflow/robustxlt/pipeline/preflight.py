"""Checks that need the file system or the environment, run before the DAG is built (robustxlt.pipeline.config
checks the configuration itself): local sources exist and hold what the jobs will read, max_length fits every model
whose positions can be read without loading it (at parse time), and nothing is to be downloaded from the hub while it
is offline (once the DAG shows what the run will prepare)."""

from __future__ import annotations

import json
from pathlib import Path

from robustxlt.data.origins import hub_offline, local_dir
from robustxlt.data.tasks import get_task
from robustxlt.pipeline.config import ConfigError, task_languages, training_settings

# The embedded model's limit (models.embedded.TOKENIZER_MAX_LENGTH, equal by test): not imported from there, since
# this module runs while Snakemake reads the workflow, where torch and transformers are not needed.
EMBEDDED_MAX_LENGTH = 512

# Models whose position table starts after the padding index (pad_token_id + 1 rows unused by tokens).
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert"}
# Tokenizers without a limit store a huge sentinel as model_max_length.
_NO_LIMIT = 10**6


def model_positions(directory: Path) -> tuple[int, str] | None:
    """The longest input a local Hugging Face model directory accepts, and the file that says so; None if its
    config does not tell."""
    config = json.loads((directory / "config.json").read_text())
    limits = []
    if "max_position_embeddings" in config:
        offset = config.get("pad_token_id", 1) + 1 if config.get("model_type") in _OFFSET_POSITIONS else 0
        limits.append((config["max_position_embeddings"] - offset, str(directory / "config.json")))
    tokenizer_config = directory / "tokenizer_config.json"
    if tokenizer_config.is_file():
        length = json.loads(tokenizer_config.read_text()).get("model_max_length")
        if isinstance(length, (int, float)) and length < _NO_LIMIT:
            limits.append((int(length), str(tokenizer_config)))
    return min(limits) if limits else None


def _check_task(config: dict, task_name: str, where: str) -> None:
    source = config["tasks"][task_name]["source"]
    key = f"{where}: key tasks.{task_name}.source"
    directory = local_dir(source)
    if directory is not None:
        if not directory.is_dir():
            raise ConfigError(
                f"{key}: local directory {directory} does not exist; point it to the directory holding "
                "train-en.tsv, dev-en.tsv and test-<lang>.tsv"
            )
        required = get_task(task_name).required_files(task_languages(config, task_name))
        missing = [
            f"{split}-{lang}.tsv" for split, lang in required if not (directory / f"{split}-{lang}.tsv").is_file()
        ]
        if missing:
            raise ConfigError(
                f"{key}: {directory} lacks {', '.join(missing)}; add them, or drop their languages from "
                f"tasks.{task_name}.languages"
            )


def _model_limit(config: dict, model_name: str, where: str, prepared: Path) -> tuple[int, str] | None:
    """Check a model's source; return its position limit when it can be read without loading the model."""
    model = config["models"][model_name]
    source, key = model["source"], f"{where}: key models.{model_name}.source"
    directory = local_dir(source)
    if source == "embedded":
        return EMBEDDED_MAX_LENGTH, "the embedded model"
    if source.startswith("tiny:"):
        from robustxlt.models.tiny import MAX_POSITIONS

        return MAX_POSITIONS, "the tiny stand-in model"
    if directory is not None:
        if not (directory / "config.json").is_file():
            raise ConfigError(
                f"{key}: {directory} is not a Hugging Face model directory (no config.json); point it to a "
                "directory written by save_pretrained"
            )
        return model_positions(directory)
    if (prepared / "models" / model_name / "config.json").is_file():
        return model_positions(prepared / "models" / model_name)
    return None  # a hub model not downloaded yet: prepare_model checks it once it is


def hub_model_cached(model_id: str, revision: str | None, cache_dir: Path | None) -> bool:
    """Whether the Hugging Face cache holds the model at `revision` (its config.json), without the network."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model_id, "config.json", cache_dir=cache_dir, revision=revision)
    return isinstance(found, str)


def check_hub_access(config: dict, where: str, pending: set[tuple[str, str]]) -> None:
    """Refuse a run that would download from the hub while HF_HUB_OFFLINE is set: `pending` holds the
    ("data", task) and ("model", name) preparations the run is about to execute (none when results are only
    re-rendered, or everything was prepared earlier, e.g. on a login node)."""
    if not hub_offline():
        return
    cache = Path(config["cache_dir"]).expanduser() if config.get("cache_dir") else None
    for kind, name in sorted(pending):
        if kind == "data" and config["tasks"][name]["source"] == "hub":
            from robustxlt.data.sources import hub_split_cached

            task = get_task(name)
            required = task.required_files(task_languages(config, name))
            if all(hub_split_cached(task, lang, split, cache) for split, lang in required):
                continue  # the datasets cache, filled where the hub is reachable, serves the pinned revision
            raise ConfigError(
                f"{where}: key tasks.{name}.source: hub data cannot be downloaded: HF_HUB_OFFLINE is set and "
                f"{name} is neither prepared nor in the datasets cache ({cache or 'the default'}) at its pinned "
                "revision; unset HF_HUB_OFFLINE where the hub is reachable, fill the cache there, or set "
                f"tasks.{name}.source: local:<dir> with XTREME-style TSVs"
            )
        source = config["models"][name]["source"] if kind == "model" else ""
        if source.startswith("hub:"):
            model_id, revision = source.removeprefix("hub:"), config["models"][name].get("revision")
            if hub_model_cached(model_id, revision, cache):
                continue  # a cache filled where the hub is reachable serves it offline
            raise ConfigError(
                f"{where}: key models.{name}.source: {source} cannot be downloaded: HF_HUB_OFFLINE is set and it "
                f"is neither prepared nor in the Hugging Face cache ({cache or 'the default'}); unset HF_HUB_OFFLINE "
                "where the hub is reachable, fill the cache there, or download it "
                f"(`hf download {model_id}{' --revision ' + revision if revision else ''} --local-dir DIR`) and set "
                "the source to local:DIR"
            )


def check_sources(config: dict, where: str = "config", prepared: Path = Path("resources")) -> None:
    """Raise ConfigError, naming the key and the fix, if a job would fail on a local source or on max_length."""
    for task_name in config["tasks"]:
        _check_task(config, task_name, where)
    for model_name in config["models"]:
        limit = _model_limit(config, model_name, where, prepared)
        if limit is None:
            continue
        positions, said_by = limit
        for task_name in config["tasks"]:
            max_length = training_settings(config, task_name, model_name)["max_length"]
            if max_length > positions:
                raise ConfigError(
                    f"{where}: key training.max_length: {max_length} (task {task_name}) exceeds the {positions} "
                    f"positions model {model_name} accepts ({said_by}); lower training.max_length"
                )
