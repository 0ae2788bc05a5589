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

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            rules_dir=Path(os.environ.get("CDS_RULES_DIR", str(_BUNDLED_RULES))),
            max_body_bytes=int(os.environ.get("CDS_MAX_BODY_BYTES", cls.max_body_bytes)),
        )
