"""tachy: the performance toolkit for Python, in one fast binary.

The wheel puts the ``tachy`` binary into the environment's scripts folder (on ``PATH`` once the
environment is active) and ships this small package with it: :func:`find_binary`, ``python -m
tachy`` and the pytest plugin (:mod:`tachy.pytest_plugin`, loaded by pytest automatically),
whose ``benchmark`` fixture hands its timings to the binary for the statistics.
"""

import os
import shutil
import sysconfig

__all__ = ["BinaryNotFound", "find_binary"]


class BinaryNotFound(RuntimeError):
    """The tachy binary is not installed where it is looked for."""


def _executable(path):
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def find_binary():
    """Returns the path of the tachy binary.

    Looks at ``$TACHY_BIN``, then this environment's scripts folder (where installing the
    tachy wheel puts it, found even when the environment is not activated), then ``PATH``.
    Raises :class:`BinaryNotFound` with what to do when there is none.
    """
    env = os.environ.get("TACHY_BIN")
    if env:
        if _executable(env):
            return env
        raise BinaryNotFound(f"TACHY_BIN is set to {env!r}, which is not an executable file")
    name = "tachy.exe" if os.name == "nt" else "tachy"
    schemes = [None, f"{os.name}_user"]
    for scheme in schemes:
        try:
            scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        candidate = os.path.join(scripts, name) if scripts else ""
        if _executable(candidate):
            return candidate
    found = shutil.which("tachy")
    if found:
        return found
    # tachy is not on PyPI: it installs from its source tree or a wheel built from it.
    raise BinaryNotFound(
        "cannot find the tachy binary: install it into this environment from tachy's source "
        "(`pip install path/to/tachy`, which builds it with maturin and needs Rust) or from a wheel "
        "built there (`pip install path/to/tachy-*.whl`), put `tachy` on PATH, or set TACHY_BIN to its path"
    )
