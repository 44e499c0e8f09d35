"""Validate the workflow configuration and resolve the settings of one run."""

from __future__ import annotations

import copy
import functools
import math
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from robustxlt.data.tasks import get_task
from robustxlt.training.settings import TrainingSettings
from robustxlt.training.sweep import base_method, variants

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration problem, phrased as one line that names the key and the fix."""


def stop_on_config_error(check, *args, **kwargs):
    """Run a check; a ConfigError ends the run with its one line (no traceback): it names the key and the fix."""
    try:
        return check(*args, **kwargs)
    except ConfigError as error:
        sys.exit(f"robustxlt: {error}")


def _key(part: Any) -> str:
    """A key as a message shows it: plain when it reads plainly, else quoted (a key may hold a newline)."""
    text = str(part)
    return text if re.fullmatch(r"[\w.@=+-]+", text) else repr(part)


def _key_path(path: Any) -> str:
    return ".".join(_key(part) for part in path) or "<top level>"


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


def _strict_types(validator_class: type) -> type:
    """JSON Schema counts 16.0 as an integer and NaN or infinity as numbers; a configuration must not: `batch_size:
    16.0` fails in batching, `seeds: [1.0]` names paths seed1.0, `learning_rate: .nan` reaches the optimizer."""
    checker = validator_class.TYPE_CHECKER.redefine_many(
        {
            "integer": lambda _, value: isinstance(value, int) and not isinstance(value, bool),
            "number": lambda _, value: (
                isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            ),
        }
    )
    return jsonschema.validators.extend(validator_class, type_checker=checker)


_Validator = _with_defaults(_strict_types(jsonschema.Draft202012Validator))


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed), key=str)
        where = key + "." if error.absolute_path else ""
        return f"unknown key {where}{_key(extra[0])}; allowed here: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"key {key}: {error.instance!r} is not one of {error.validator_value}"
    if error.validator == "required":
        return f"key {key}: {error.message}"
    if error.validator == "type" and isinstance(error.instance, float) and not math.isfinite(error.instance):
        return f"key {key}: {error.instance} is not a finite number"
    if error.validator == "type" and "integer" in error.validator_value and isinstance(error.instance, float):
        return f"key {key}: {error.instance!r} is not an integer (write {error.instance:.0f}, without a decimal point)"
    return f"key {key}: {error.message}"


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last one silently: a second
    `training:` block would replace the first whole)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise ConfigError(
                    f"{self.name}:{key_node.start_mark.line + 1}: key {key!r} is given twice in one mapping (first "
                    f"at line {seen[key]}); keep one (YAML would silently drop the first)"
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def load_config_file(path: Path) -> dict:
    """Read a configuration file; a syntax error or a duplicated key raises ConfigError naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such configuration file; give an existing file to --configfile")
    text = path.read_text(encoding="utf-8")
    loader = _UniqueKeyLoader(text)
    loader.name = str(path)
    try:
        config = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({error.problem or error.context}); fix the syntax there") from None
    finally:
        loader.dispose()
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: a configuration is a YAML mapping of keys (setup, tasks, models, ...)")
    return config


def _check_string_keys(node: Any, path: tuple, source: str) -> None:
    """Every key of the configuration is a string: YAML reads `1:` as a number and `yes:` as true."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise ConfigError(
                    f"{source}: key {_key_path((*path, key))}: a key must be a name, not {type(key).__name__} "
                    f"{key!r}; quote it if it is meant as a name"
                )
            _check_string_keys(value, (*path, key), source)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_string_keys(value, (*path, index), source)


@functools.cache
def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _one_error(source: str, problems: list[str], hint: str = "") -> ConfigError:
    """One problem as one line; several as one message that lists every one, each on a line of its own."""
    problems = list(dict.fromkeys(problems))
    if len(problems) == 1:
        return ConfigError(f"{source}: {problems[0]}{hint}")
    listed = "".join(f"\n  {problem}" for problem in problems)
    return ConfigError(f"{source}: {len(problems)} problems{hint}:{listed}")


def _schema_problems(config: dict, schema: dict) -> list[str]:
    """The schema's problems in key order: one per wrong key (the most specific of its violations) and one per
    missing key."""
    by_key: dict[tuple, list] = {}
    for error in _Validator(schema).iter_errors(config):
        missing = error.message if error.validator == "required" else None
        by_key.setdefault((tuple(map(str, error.absolute_path)), missing), []).append(error)
    ordered = sorted(by_key, key=lambda key: (key[0], key[1] or ""))
    return [_describe(jsonschema.exceptions.best_match(by_key[key])) for key in ordered]


def validate_config(config: dict, source: str = "config") -> dict:
    """Validate `config` in place (filling defaults) and return it; raise one ConfigError that lists every problem
    (the schema's first; the checks against the task registry once the schema holds)."""
    _check_string_keys(config, (), source)
    schema = _schema()
    problems = _schema_problems(config, schema)
    if problems:
        hint = (
            "; a file that names its setup is a whole configuration: add the missing keys, or leave setup out to take "
            "them from config.yaml"
            if any("is a required property" in problem for problem in problems) and "setup" in config
            else ""
        )
        raise _one_error(source, [f"{problem} (schema: {SCHEMA_PATH.name})" for problem in problems], hint)
    problems = []
    for task_name in config["tasks"]:
        try:
            _check_task(config, task_name, schema, source)
        except ConfigError as error:
            problems.append(str(error).removeprefix(f"{source}: "))
    if problems:
        raise _one_error(source, problems)
    return config


def _check_task(config: dict, task_name: str, schema: dict, source: str) -> None:
    """A task of the registry, its source, its methods, its languages and its runs' training settings."""
    try:
        task = get_task(task_name)
    except KeyError as err:
        raise ConfigError(f"{source}: key tasks.{task_name}: {err.args[0]}") from None
    where = f"{source}: key tasks.{task_name}"
    _check_task_source(task, config["tasks"][task_name], where)
    _check_task_methods(config, task_name, schema, source)
    _check_task_languages(config, task, where)
    _check_training_settings(config, task_name, source)


def with_default_recipe(config: dict, default: dict) -> list[str]:
    """Complete, in place, a configuration that names no `setup`: each top-level key it leaves out is taken whole
    from the default configuration (its methods, seeds, training, ...; its model when `models` is left out too),
    and `setup` becomes `custom`. Sections it gives replace the default's whole (your `tasks` run instead of the
    proxy task, not beside it). A configuration that names its setup is whole and is left as it is, so a preset
    never takes the default's methods by accident. Returns the keys taken from the default."""
    if "setup" in config:
        return []
    taken = [key for key in default if key not in config and key != "setup"]
    config.update({key: copy.deepcopy(default[key]) for key in taken})
    config["setup"] = "custom"
    return taken


def _check_training_settings(config: dict, task_name: str, source: str) -> None:
    """Each model's complete training settings on the task hold together (e.g. a cache of frozen layers needs
    frozen layers), checked here rather than when the training job starts."""
    for model_name in config["models"]:
        try:
            TrainingSettings.from_dict(training_settings(config, task_name, model_name))
        except ValueError as error:
            raise ConfigError(
                f"{source}: training of model {model_name} on task {task_name} (the training block merged with the "
                f"task's and the model's): {error}"
            ) from None


def _check_task_source(task, task_cfg: dict, where: str) -> None:
    """The task's data source exists for it, and the sizes of generated data (`embedded`, `tiny`) go with theirs."""
    if task_cfg["source"] == "embedded" and task.hub_id is not None:
        raise ConfigError(
            f"{where}.source: embedded data exists only for the proxy task (use hub or local:<dir> for {task.name})"
        )
    if task_cfg["source"] == "tiny" and task.hub_id is None:
        raise ConfigError(
            f"{where}.source: tiny stand-ins exist for the paper's tasks only (pawsx, xnli); use embedded"
        )
    if task_cfg["source"] == "hub" and task.hub_id is None:
        raise ConfigError(f"{where}.source: {task.name} has no hub dataset; use embedded")
    for generated in ("embedded", "tiny"):
        if generated in task_cfg and task_cfg["source"] != generated:
            raise ConfigError(f"{where}.{generated} is only valid with source: {generated}")


def _check_task_methods(config: dict, task_name: str, schema: dict, source: str) -> None:
    """Per-task method settings name known methods, and every method and sweep variant holds together."""
    for method_name in config["tasks"][task_name].get("methods", {}):
        where = f"{source}: key tasks.{task_name}.methods.{method_name}"
        if method_name not in config["methods"]:
            raise ConfigError(f"{where}: no method of that name; methods are {', '.join(config['methods'])}")
        _validate_method(method_settings(config, task_name, method_name), schema, where)
    for method_name in config["methods"]:
        for variant, settings in method_variants(config, task_name, method_name).items():
            if variant != method_name:  # a sweep's variant: its scalar settings must hold together too
                _validate_method(settings, schema, f"{source}: key methods.{method_name} (variant {variant})")


def _check_task_languages(config: dict, task, where: str) -> None:
    """Evaluated languages are the task's and include English; the generalized setting's are among them."""
    task_cfg = config["tasks"][task.name]
    wanted = task_cfg.get("languages") or []
    unknown = [lang for lang in wanted if lang not in task.languages]
    if unknown:
        raise ConfigError(
            f"{where}.languages: unknown language(s) {', '.join(map(_key, unknown))}; {task.name} has "
            f"{', '.join(task.languages)}"
        )
    if wanted and "en" not in wanted:
        raise ConfigError(f"{where}.languages must include en (the training and selection language)")
    evaluated = task_languages(config, task.name)
    outside = [lang for lang in task_cfg["generalized"].get("languages", []) if lang not in evaluated]
    if outside:
        raise ConfigError(
            f"{where}.generalized.languages: {', '.join(outside)} not among the task's evaluated languages "
            f"({', '.join(evaluated)})"
        )
    if len(generalized_languages(config, task.name)) == 1:
        raise ConfigError(
            f"{where}.generalized.languages: one language makes no pair; "
            "give two or more, or [] to turn the generalized setting off"
        )


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
    """Complete training settings of one run: the documented defaults (robustxlt.training.settings), the task's
    evaluation interval, then the configuration's global, task and model overrides (later wins). Every key is
    present."""
    settings = {**TrainingSettings().as_dict(), "eval_every": get_task(task_name).eval_every}
    settings.update(config.get("training", {}))
    settings.update(config["tasks"][task_name].get("training", {}))
    settings.update(config["models"][model_name].get("training", {}))
    return settings


def described_setup(config: dict, source: str = "config") -> tuple[str, str | None]:
    """The setup the tables name, and a warning when `setup: embedded` claims more than the sources give.

    `embedded` says the offline proxy task on the embedded model; a configuration that keeps that setup but points
    a task or model elsewhere (e.g. the default with only `tasks` replaced) is a custom setup, and its captions say
    so (their Model and Data lines name what ran)."""
    if config["setup"] != "embedded":
        return config["setup"], None
    elsewhere = [
        f"{kind}.{name}.source is {settings['source']}"
        for kind in ("tasks", "models")
        for name, settings in config[kind].items()
        if settings["source"] != "embedded"
    ]
    if not elsewhere:
        return "embedded", None
    return "custom", (
        f"{source}: setup is embedded but {'; '.join(elsewhere)}: the tables call this a custom setup (their Model "
        "and Data lines say what ran); write setup: custom to say so yourself"
    )
