"""Imported only by the sandbox's forkserver (never by the server itself).

1. multiprocessing makes every child re-import the parent's main script (so that spawn works
   with functions defined in it). Our targets live in importable modules, and re-running a
   console script, `python -c` or stdin in a child is slow at best and fails at worst, so in this
   forkserver (and the children it forks, which are all ours) the main-script step is dropped.
2. One analysis warms SymPy's printers and lambdify up, so every forked child starts ready
   (about 0.2 s saved per formula).
"""

from collections.abc import Mapping
from multiprocessing import spawn
from typing import Any

from app.core.formulas.worker import analyse

_prepare = spawn.prepare


def _prepare_without_main(data: Mapping[str, Any]) -> None:
    main = ("init_main_from_name", "init_main_from_path")
    _prepare({k: v for k, v in data.items() if k not in main})


spawn.prepare = _prepare_without_main

analyse("sin(x)*cos(y) + abs(x)/3 + exp(-y**2)", (-1.0, 1.0), (-1.0, 1.0))
