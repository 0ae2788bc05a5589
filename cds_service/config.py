"""Settings, from the environment, with defaults that run the service on one machine."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_BUNDLED_RULES = Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class Settings:
    rules_dir: Path = _BUNDLED_RULES
    max_body_bytes: int = 5 * 1024 * 1024
    """A 50-resource prefetch is about 50 kB; 5 MiB leaves room for long records."""
    reload_seconds: float = 2.0
    """How often the rules folder is polled for changes; 0 turns hot reload off."""
    reload_timeout: float = 60.0
    """The longest a new rule set may take to check and test before it is refused."""

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            rules_dir=Path(os.environ.get("CDS_RULES_DIR", str(_BUNDLED_RULES))),
            max_body_bytes=int(os.environ.get("CDS_MAX_BODY_BYTES", cls.max_body_bytes)),
            reload_seconds=float(os.environ.get("CDS_RULES_RELOAD_SECONDS", cls.reload_seconds)),
            reload_timeout=float(os.environ.get("CDS_RULES_RELOAD_TIMEOUT", cls.reload_timeout)),
        )
