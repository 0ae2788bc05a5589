"""Patients and encounters as keyed hashes: the store can count and match them, never name them.

The key is ``CDS_PATIENT_HASH_KEY``. Unset, a random key is made once and kept in
``<data dir>/patient-hash.key`` (mode 0600) so hashes stay the same across restarts; several
machines writing to one PostgreSQL must share the key through the environment, or they count one
patient as several. Without the key a hash cannot be turned back into an id by trying ids.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("cds_service.store")
KEY_FILE = "patient-hash.key"


class PatientHasher:
    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the patient-hash key must be at least 16 bytes")
        self._key = key

    def __call__(self, identifier: str | None) -> str | None:
        """HMAC-SHA256 of an id, hex; None stays None (an encounter is optional)."""
        if identifier is None:
            return None
        return hmac.new(self._key, identifier.encode(), hashlib.sha256).hexdigest()


def hasher_for(key: str, data_dir: Path) -> PatientHasher:
    """The hasher for the configured key, or for the key kept in the data folder."""
    if key:
        return PatientHasher(key.encode())
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        log.warning(
            "CDS_PATIENT_HASH_KEY is not set: patients are hashed with a new key in %s", path
        )
    return PatientHasher(path.read_text(encoding="utf-8").strip().encode())
