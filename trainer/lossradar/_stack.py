"""Where a LossRadarWarning should point: the first frame outside this package.

A fixed ``stacklevel`` is right for one call path only: ``run.log`` called directly, through
``lossradar.log``, or from an integration's callback sits at different depths, and a warning raised
while ``watch()`` or ``log()`` measures a layer is deeper still. Counting this package's frames, as
pandas' ``find_stack_level`` does, points every warning at the user's own line.
"""

from __future__ import annotations

import os
import sys
from types import FrameType

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` called by this function's caller."""
    frame: FrameType | None = sys._getframe(0)  # this function's: counted in place of warnings.warn's own level 1
    level = 0
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        level += 1
        frame = frame.f_back
    return level
