"""The library's layout: stage sub-packages in one order, imports only downwards, no cycles, docstring-only package
files, short modules, and a DAG build that does not import torch."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "workflow" / "robustxlt"
# Lowest first: a module imports only from its own sub-package or a lower one.
LAYERS = ["data", "models", "augmentation", "training", "evaluation", "analysis", "pipeline"]
MAX_LINES = 450
# A longer module says why in its first lines, e.g. "# One module on purpose (...): ...".
WHY_LONG = "one module on purpose"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str) -> set[str]:
    """The robustxlt modules `name` imports, at module level and inside functions alike."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {module for module in found if module == "robustxlt" or module.startswith("robustxlt.")}


GRAPH = {name: imported_modules(name) for name in MODULES}


def layer(name: str) -> int:
    parts = name.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else -1


def test_every_module_is_in_a_stage():
    loose = [name for name in MODULES if name != "robustxlt" and name.split(".")[1] not in LAYERS]
    assert not loose, f"modules outside the stage sub-packages {LAYERS}: {loose}"


def test_imports_resolve_to_modules():
    unknown = {name: sorted(GRAPH[name] - set(MODULES)) for name in MODULES if GRAPH[name] - set(MODULES)}
    assert not unknown, f"imports of modules that do not exist: {unknown}"


def test_no_import_from_a_higher_layer():
    upward = [
        f"{name} ({LAYERS[layer(name)]}) imports {target} ({LAYERS[layer(target)]})"
        for name, targets in GRAPH.items()
        for target in sorted(targets)
        if target in MODULES and layer(target) > layer(name)
    ]
    assert not upward, "imports against the stage order " + " < ".join(LAYERS) + ":\n" + "\n".join(upward)


def test_no_import_cycle():
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> list[str] | None:
        state[name] = "open"
        for target in sorted(GRAPH.get(name, ())):
            if state.get(target) == "open":
                return [*trail, name, target]
            if target not in state and (cycle := visit(target, [*trail, name])):
                return cycle
        state[name] = "done"
        return None

    for name in MODULES:
        if name not in state and (cycle := visit(name, [])):
            pytest.fail("import cycle: " + " -> ".join(cycle[cycle.index(cycle[-1]) :]))


@pytest.mark.parametrize(
    "package", sorted(name for name, path in MODULES.items() if path.name == "__init__.py" and name != "robustxlt")
)
def test_sub_package_files_are_docstrings_only(package):
    tree = ast.parse(MODULES[package].read_text())
    assert ast.get_docstring(tree), f"{package}/__init__.py has no docstring saying what the stage takes and writes"
    assert len(tree.body) == 1, f"{package}/__init__.py holds more than its docstring (imports or code)"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_short_or_say_why(name):
    lines = MODULES[name].read_text().splitlines()
    if len(lines) > MAX_LINES:
        head = " ".join(lines[:5]).lower()
        assert WHY_LONG in head, (
            f"{name} has {len(lines)} lines (> {MAX_LINES}): split it, or say in its first lines why not "
            f"({WHY_LONG!r} ...)"
        )


def test_dag_build_modules_do_not_import_torch():
    """What the Snakefile and the rules import while building the DAG stays torch-free."""
    code = (
        "import sys\n"
        "import robustxlt.training.kinds, robustxlt.pipeline.config, robustxlt.pipeline.preflight\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_what_the_rules_import_does_not_import_torch():
    """Every robustxlt module the Snakefile and the rule files import, imported together: no torch."""
    repo = PACKAGE.parent.parent
    sources = [repo / "Snakefile", *sorted((repo / "workflow" / "rules").glob("*.smk"))]
    modules = sorted(
        {match for path in sources for match in re.findall(r"^from (robustxlt[\w.]*) import", path.read_text(), re.M)}
    )
    assert "robustxlt.training.kinds" in modules
    code = f"import sys\nimport {', '.join(modules)}\nprint('torch' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", f"importing {modules} imports torch"
