"""A live test server whose clock runs ahead: tests/live.py puts this folder on PYTHONPATH.

Python imports ``sitecustomize`` before anything else, so the server's ``time.time`` (the clock
its Center and every timestamp read) is ``TEST_CLOCK_AHEAD_S`` seconds ahead from its first
line: a test reaches an appointment's slot, or tomorrow, without waiting for the wall clock.
Never installed: it exists only in the test tree.
"""

import os
import time

_AHEAD_S = float(os.environ.get("TEST_CLOCK_AHEAD_S") or 0)
if _AHEAD_S:
    _wall = time.time
    _wall_ns = time.time_ns
    time.time = lambda: _wall() + _AHEAD_S
    time.time_ns = lambda: _wall_ns() + int(_AHEAD_S * 1e9)
