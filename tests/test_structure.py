"""The import rules of app/, read from the source's AST.

- No module imports another module's private (`_`-prefixed) names: neither `from x import _y`
  nor `x._y` on an imported module `x`, nor a private module (`import x._y`).
- Outside app/core, the core is imported only through its rooms' packages (app.core.surfaces,
  app.core.descent, app.core.formulas, app.core.data, …: each folder of app/core) and its shared
  modules (app.core.text), and only the names a room's __all__ lists: that is all the rest of
  the app may use.
- app/core is pure numpy: it never imports the web layer.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"

ROOMS = frozenset(f"app.core.{p.parent.name}" for p in (APP / "core").glob("*/__init__.py"))
WEB_LAYER = ("app.api", "app.web", "app.main", "app.middleware", "fastapi", "starlette", "jinja2")


def exported(room: str) -> frozenset[str]:
    """The names a room's __init__.py lists in __all__."""
    tree = ast.parse((ROOT / room.replace(".", "/") / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def is_private(name: str) -> bool:
    """`_x` is private; a dunder such as `__version__` or `__future__` is not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def imported_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of the module a (possibly relative) `from … import` reads."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every breach of the rules above in one module's source, as 'module:line: what'."""
    tree = ast.parse(source)
    in_core = is_under(module, "app.core")
    found: list[str] = []
    modules_bound: set[str] = set()  # local names that refer to an imported module

    def check_target(target: str, line: int, through_package: bool = False) -> None:
        """`through_package`: a submodule taken from its package (`from pkg import mod`), which
        is allowed when the package exports it; only the core's reach into the web counts."""
        if not through_package and any(is_private(part) for part in target.split(".")):
            found.append(f"{module}:{line}: imports the private module {target}")
        if in_core and any(is_under(target, layer) for layer in WEB_LAYER):
            found.append(f"{module}:{line}: the core imports the web layer ({target})")
        # app.core.<room or shared module> is the way in; app.core.<room>.<module> is not.
        deep = is_under(target, "app.core") and target.count(".") >= 3
        if not in_core and not through_package and deep:
            room = ".".join(target.split(".")[:3])
            found.append(
                f"{module}:{line}: imports {target}; import from its room's package {room}"
            )

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check_target(alias.name, node.lineno)
                modules_bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            source_module = imported_from(node, module, is_package)
            check_target(source_module, node.lineno)
            listed = exported(source_module) if source_module in ROOMS and not in_core else None
            for alias in node.names:
                if listed is not None and alias.name not in listed:
                    found.append(
                        f"{module}:{node.lineno}: imports {alias.name} from {source_module}, "
                        "which its __all__ does not list"
                    )
                if is_private(alias.name):
                    found.append(
                        f"{module}:{node.lineno}: imports the private name {alias.name} "
                        f"from {source_module}"
                    )
                elif is_module(f"{source_module}.{alias.name}"):
                    check_target(f"{source_module}.{alias.name}", node.lineno, True)
                    modules_bound.add(alias.asname or alias.name)

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            base: ast.expr = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules_bound:
                found.append(
                    f"{module}:{node.lineno}: uses the private name {node.attr} "
                    f"of the module {ast.unparse(node.value)}"
                )
    return found


def app_modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def test_app_keeps_the_import_rules() -> None:
    found = [
        breach
        for module, path in app_modules()
        for breach in violations(
            path.read_text(encoding="utf-8"), module, path.name == "__init__.py"
        )
    ]
    assert found == [], "\n".join(found)


def test_the_walk_sees_every_room() -> None:
    modules = {module for module, _ in app_modules()}
    assert {"app.core.surfaces", "app.core.descent", "app.core.formulas", "app.core.data"} <= ROOMS
    assert ROOMS <= modules
    assert {"app.api", "app.web", "app.main"} <= modules


# The checker itself, on deliberate breaches: each must be caught, and the allowed forms not.
@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("app.core.descent.batch", "from app.core.descent.runner import _stop\n"),
        ("app.core.descent.batch", "from .runner import Trajectory, _stop\n"),
        (
            "app.core.descent.batch",
            "from app.core.descent import runner\n\ndef f():\n    return runner._stop(1)\n",
        ),
        ("app.core.descent.batch", "import app.core.descent.runner as r\nr._stop\n"),
        ("app.api.convert", "import numpy as np\nnp._core\n"),
        ("app.api.convert", "from numpy._core import umath\n"),
        ("app.api.convert", "from app.core.descent.runner import descend\n"),
        ("app.web.pages", "from app.core.surfaces.presets import PRESETS\n"),
        ("app.main", "import app.core.formulas.sandbox\n"),
        ("app.api.convert", "from app.core.descent import runner\n"),  # not in its __all__
        ("app.core.descent.runner", "from app.api.schemas import DescentRequest\n"),
        ("app.core.surfaces.grid", "from fastapi import HTTPException\n"),
    ],
)
def test_a_deliberate_breach_is_caught(module: str, source: str) -> None:
    assert len(violations(source, module)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("app.api.convert", "from app.core.descent import descend, compiled\n"),
        ("app.api.convert", "from app.core.text import format_number\n"),
        ("app.api.convert", "import app.core.surfaces\n"),
        ("app.core.descent.batch", "from app.core.descent.runner import descend\n"),
        ("app.core.descent.batch", "from app.core.surfaces.surface import Surface\n"),
        ("app.main", "from app import __version__\n"),
        ("app.api.schemas", "def f(state):\n    return state._fields, self._x\n"),
    ],
)
def test_the_allowed_forms_pass(module: str, source: str) -> None:
    assert violations(source, module) == []
