"""The load generator child imports Locust (and gevent's monkey-patching) only after it has
read its plan; anything that imports ``ssl`` before then makes Locust's import recurse
without end (``RecursionError`` in ``ssl.minimum_version``: seen when the suite's stop
conditions imported chaoslib, which imports requests). This checks what the child imports
first, in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

_CHECK = """
import sys
import gameday.load.__main__  # noqa: F401  (what the child imports before the pacer)
import gameday.config  # noqa: F401  (a plan names a suite's options)
early = sorted(m for m in ("ssl", "requests", "urllib3", "chaoslib") if m in sys.modules)
print(",".join(early))
"""


def test_the_load_child_imports_nothing_ssl_before_it_patches() -> None:
    done = subprocess.run([sys.executable, "-c", _CHECK], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "", f"imported before gevent's patching: {done.stdout}"
