"""A stateful, Spotler Mail+ compatible REST API server over loopback, for tests and ``crm-sync demo``.

Public API: ``SpotlerSandbox`` (start/stop or ``with``; ``base_url``, ``consumer_key``/``consumer_secret``, control
and inspection methods) and ``Faults`` (``sandbox.faults``). Behaviour follows ``../shared/docs/spotler-api.md``;
where that document marks behaviour as inferred, the choices made are described in ``writes.py`` and next to the
code that implements them.
"""

from __future__ import annotations

from sync.sandbox.spotler.faults import Faults
from sync.sandbox.spotler.sandbox import SpotlerSandbox

__all__ = ["Faults", "SpotlerSandbox"]
