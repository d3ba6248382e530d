"""Numba's cache never runs a kernel built from other sources than today's (``naef.engine.kernel_cache``).

The hazard is Numba's own (a cached function is stamped with its own file only), shown here on two tiny modules in
a subprocess: the caller's cached machine code keeps the callee it was built with until the stale files are
dropped."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from naef.engine import kernel, kernel_cache
from naef.engine.kernel_cache import KERNEL_MODULES, STAMP_NAME, drop_stale, sources_digest


def _touch(d: Path, *names: str) -> None:
    for name in names:
        (d / name).write_bytes(b"x")


def test_a_changed_digest_drops_the_kernels_files_only(tmp_path: Path) -> None:
    ours = ["kernel.monte_carlo_kernel-76.py311.nbi", "kernel.monte_carlo_kernel-76.py311.1.nbc",
            "waterfall_kernel.waterfall_path-135.py311.nbi"]
    theirs = ["other.f-1.py311.nbi", "kernel.cpython-311.pyc", "metricsx.g-2.py311.nbc"]
    _touch(tmp_path, *ours, *theirs)
    (tmp_path / STAMP_NAME).write_text("old\n", encoding="ascii")
    stems = ("kernel", "waterfall_kernel", "metrics")
    assert drop_stale(tmp_path, digest="new", stems=stems) == len(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*theirs, STAMP_NAME])
    assert (tmp_path / STAMP_NAME).read_text(encoding="ascii").strip() == "new"
    _touch(tmp_path, *ours)  # built from the stamped sources: kept
    assert drop_stale(tmp_path, digest="new", stems=stems) == 0
    assert all((tmp_path / n).exists() for n in ours)


def test_files_of_unknown_provenance_are_dropped(tmp_path: Path) -> None:
    _touch(tmp_path, "kernel.k-1.py311.nbi")
    assert drop_stale(tmp_path, digest="d", stems=("kernel",)) == 1
    assert (tmp_path / STAMP_NAME).read_text(encoding="ascii").strip() == "d"


def test_the_digest_moves_with_any_kernel_source() -> None:
    assert sources_digest() != sources_digest(KERNEL_MODULES[:-1])
    assert sources_digest() != sources_digest((*KERNEL_MODULES[1:], KERNEL_MODULES[0]))


def test_every_naef_module_a_kernel_imports_is_stamped() -> None:
    """A constant or function imported from a module outside :data:`KERNEL_MODULES` would be frozen into the
    cached machine code without moving the stamp."""
    for module in KERNEL_MODULES:
        source = kernel_cache._source(module).read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("naef"):
                assert node.module in (*KERNEL_MODULES, "naef.engine.kernel_cache"), (module, node.module)


def test_importing_the_kernels_stamps_their_cache_directory() -> None:
    cache_dir = Path(kernel.monte_carlo_kernel.stats.cache_path)
    if not os.access(cache_dir, os.W_OK):
        return  # Numba caches nothing there either
    assert (cache_dir / STAMP_NAME).read_text(encoding="ascii").strip() == sources_digest()


_CALLEE = "from numba import njit\n\n\n@njit(cache=True)\ndef f():\n    return {value}\n"
_CALLER = textwrap.dedent("""
    import sys
    from pathlib import Path

    from numba import njit

    from callee import f


    @njit(cache=True)
    def g():
        return f()


    if sys.argv[1] == "fresh":
        from naef.engine.kernel_cache import drop_stale, sources_digest
        here = Path(__file__).parent
        h = __import__("hashlib").sha256((here / "callee.py").read_bytes() + (here / "caller.py").read_bytes())
        drop_stale(Path(g.stats.cache_path), digest=h.hexdigest(), stems=("caller", "callee"))
    print(g())
""")


def _run(d: Path, mode: str) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(d / "cache")}
    done = subprocess.run([sys.executable, str(d / "caller.py"), mode], cwd=d, env=env, capture_output=True,
                          text=True, check=True, timeout=300)
    return done.stdout.strip()


def test_numba_keeps_a_stale_callee_and_drop_stale_clears_it(tmp_path: Path) -> None:
    (tmp_path / "caller.py").write_text(_CALLER, encoding="utf-8")
    (tmp_path / "callee.py").write_text(_CALLEE.format(value=1), encoding="utf-8")
    assert _run(tmp_path, "plain") == "1"  # compiled and cached
    (tmp_path / "callee.py").write_text(_CALLEE.format(value=2), encoding="utf-8")
    assert _run(tmp_path, "plain") == "1"  # Numba's hazard: the caller's cache still holds the old callee
    assert _run(tmp_path, "fresh") == "2"  # the digest moved: the stale files dropped before loading
    assert _run(tmp_path, "fresh") == "2"  # and the new ones cached and kept
