"""Patients and encounters as keyed hashes: the store can count and match them, never name them.

The key is ``CDS_PATIENT_HASH_KEY``. Unset, a random key is made once and kept in
``<data dir>/patient-hash.key`` (mode 0600) so hashes stay the same across restarts; several
machines writing to one PostgreSQL must share the key through the environment, or they count one
patient as several. Without the key a hash cannot be turned back into an id by trying ids.

Card uuids are keyed with the same key (``cards/ids.py``): a stored or logged uuid must not
give away the patient the hash hides, and replicas sharing the key give the same uuids.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from ..cards.ids import MIN_KEY_BYTES, PROCESS_IDS, CardIds
from ..config import Settings

log = logging.getLogger("cds_service.store")
KEY_FILE = "patient-hash.key"


class PatientHasher:
    def __init__(self, key: bytes):
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the patient-hash key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key

    def __call__(self, identifier: str | None) -> str | None:
        """HMAC-SHA256 of an id, hex; None stays None (an encounter is optional)."""
        if identifier is None:
            return None
        return hmac.new(self._key, identifier.encode(), hashlib.sha256).hexdigest()


def hasher_for(key: str, data_dir: Path) -> PatientHasher:
    """The hasher for the configured key, or for the key kept in the data folder."""
    return PatientHasher(key_for(key, data_dir))


def card_ids(settings: Settings) -> CardIds:
    """Card uuids under the patient-hash key; with no store and no key, a key of this process.

    Without a store nothing kept relies on a uuid outliving the process, and a service run
    without a store may have no writable data folder, so none is made; its uuids then change
    when it restarts, which the warning says.
    """
    if settings.patient_hash_key or settings.database_url:
        return CardIds(key_for(settings.patient_hash_key, settings.data_dir))
    log.warning(
        "no store and no CDS_PATIENT_HASH_KEY: card uuids are keyed for this process only and "
        "change when it restarts; set CDS_PATIENT_HASH_KEY to keep them"
    )
    return PROCESS_IDS


def key_for(key: str, data_dir: Path) -> bytes:
    """The configured key, or the key kept in the data folder (made the first time)."""
    if key:
        if len(key.encode()) < MIN_KEY_BYTES:
            raise ValueError(
                f"CDS_PATIENT_HASH_KEY must be at least {MIN_KEY_BYTES} bytes, got "
                f"{len(key.encode())}: patient hashes and card uuids are keyed with it"
            )
        return key.encode()
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        log.warning(
            "CDS_PATIENT_HASH_KEY is not set: patients are hashed with a new key in %s", path
        )
    return path.read_text(encoding="utf-8").strip().encode()
