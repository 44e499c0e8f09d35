"""Validate the workflow configuration and resolve the settings of one run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from robustxlt.sweep import base_method, variants
from robustxlt.tasks import get_task

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration problem, phrased as one line that names the key and the fix."""


def _key_path(path: Any) -> str:
    return ".".join(str(part) for part in path) or "<top level>"


def _with_defaults(validator_class: type) -> type:
    """Extend a jsonschema validator so that `default:` values are written into the instance."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = subschema["default"]
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"unknown key {key + '.' if error.absolute_path else ''}{extra[0]!s}; allowed here: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"key {key}: {error.instance!r} is not one of {error.validator_value}"
    if error.validator == "required":
        return f"key {key}: {error.message}"
    return f"key {key}: {error.message}"


def validate_config(config: dict, source: str = "config") -> dict:
    """Validate `config` in place (filling defaults) and return it; raise ConfigError on the first problem."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise ConfigError(f"{source}: {_describe(best)} (schema: {SCHEMA_PATH.name})")
    for task_name, task_cfg in config["tasks"].items():
        try:
            task = get_task(task_name)
        except KeyError as err:
            raise ConfigError(f"{source}: key tasks.{task_name}: {err.args[0]}") from None
        unknown = [lang for lang in task_cfg.get("languages", []) if lang not in task.languages]
        if unknown:
            raise ConfigError(
                f"{source}: key tasks.{task_name}.languages: unknown language(s) {', '.join(unknown)}; "
                f"{task_name} has {', '.join(task.languages)}"
            )
        if "en" not in task_cfg.get("languages", ["en"]):
            raise ConfigError(
                f"{source}: key tasks.{task_name}.languages must include en (the training and selection language)"
            )
        if task_cfg["source"] == "embedded" and task.hub_id is not None:
            raise ConfigError(
                f"{source}: key tasks.{task_name}.source: embedded data exists only for the proxy task "
                f"(use hub or local:<dir> for {task_name})"
            )
        if task_cfg["source"] == "hub" and task.hub_id is None:
            raise ConfigError(f"{source}: key tasks.{task_name}.source: {task_name} has no hub dataset; use embedded")
        for method_name in task_cfg.get("methods", {}):
            if method_name not in config["methods"]:
                raise ConfigError(
                    f"{source}: key tasks.{task_name}.methods.{method_name}: no method of that name; "
                    f"methods are {', '.join(config['methods'])}"
                )
            _validate_method(
                method_settings(config, task_name, method_name),
                schema,
                f"{source}: key tasks.{task_name}.methods.{method_name}",
            )
        for method_name in config["methods"]:
            for variant, settings in method_variants(config, task_name, method_name).items():
                if variant != method_name:  # a sweep's variant: its scalar settings must hold together too
                    _validate_method(settings, schema, f"{source}: key methods.{method_name} (variant {variant})")
        outside = [
            lang
            for lang in task_cfg["generalized"].get("languages", [])
            if lang not in task_languages(config, task_name)
        ]
        if outside:
            raise ConfigError(
                f"{source}: key tasks.{task_name}.generalized.languages: {', '.join(outside)} not among the "
                f"task's evaluated languages ({', '.join(task_languages(config, task_name))})"
            )
        if len(generalized_languages(config, task_name)) == 1:
            raise ConfigError(
                f"{source}: key tasks.{task_name}.generalized.languages: one language makes no pair; "
                "give two or more, or [] to turn the generalized setting off"
            )
        if "embedded" in task_cfg and task_cfg["source"] != "embedded":
            raise ConfigError(f"{source}: key tasks.{task_name}.embedded is only valid with source: embedded")
    return config


def _validate_method(settings: dict, schema: dict, where: str) -> None:
    """Check merged method settings against the schema of a method entry."""
    entry = {"$defs": schema["$defs"], **schema["properties"]["methods"]["additionalProperties"]}
    errors = list(_Validator(entry).iter_errors(settings))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        raise ConfigError(f"{where}: {_describe(error).removeprefix('key <top level>: ')} (schema: {SCHEMA_PATH.name})")


def method_settings(config: dict, task_name: str, method_name: str) -> dict:
    """Settings of a method, or of one variant of a sweep (`adversarial@epsilon=0.01`), for one task: the method's
    own, then the task's overrides (later wins); a variant's swept values replace the lists."""
    method = base_method(method_name)
    settings = {**config["methods"][method], **config["tasks"][task_name].get("methods", {}).get(method, {})}
    # A variant, or an unswept method (a one-value list becomes its value); a swept method's own name keeps its lists.
    return variants(method, settings).get(method_name, settings)


def method_variants(config: dict, task_name: str, method_name: str) -> dict[str, dict]:
    """{variant name: scalar settings} of a configured method for one task (one variant, the method itself,
    when nothing is swept)."""
    merged = {**config["methods"][method_name], **config["tasks"][task_name].get("methods", {}).get(method_name, {})}
    return variants(method_name, merged)


def task_languages(config: dict, task_name: str) -> list[str]:
    """The languages evaluated for a task, in the registry's order (English first)."""
    wanted = config["tasks"][task_name].get("languages")
    return [lang for lang in get_task(task_name).languages if wanted is None or lang in wanted]


def generalized_languages(config: dict, task_name: str) -> list[str]:
    """The languages of the generalized setting (every ordered pair of them), in the registry's order; [] = off."""
    wanted = config["tasks"][task_name]["generalized"].get("languages")
    return [lang for lang in task_languages(config, task_name) if wanted is None or lang in wanted]


def training_settings(config: dict, task_name: str, model_name: str) -> dict:
    """Training settings of one run: global, then task, then model overrides (later wins)."""
    settings = {"eval_every": get_task(task_name).eval_every}
    settings.update(config.get("training", {}))
    settings.update(config["tasks"][task_name].get("training", {}))
    settings.update(config["models"][model_name].get("training", {}))
    return settings
