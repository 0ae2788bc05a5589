"""Card and suggestion uuids keyed with the deployment's secret, so that they name no patient.

A card's uuid must stay the same for the same rule, patient and evidence (feedback, the repeat
after an override, the report and the ``applied`` tag rely on it), so it is derived, not random.
Derived with a public recipe (``uuid5`` of the patient id) it would undo the store's keyed
patient hashes: anyone holding a stored or logged uuid could try candidate patient ids against
it. It is therefore an HMAC-SHA256 under the patient-hash key, its first 128 bits made an
RFC 9562 version 8 (custom) uuid: replicas sharing the key give the same uuids, and without the
key a uuid cannot be recomputed from an id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

MIN_KEY_BYTES = 16
_DOMAIN = b"card-uuid\x00"
"""Kept apart from the patient hashes made with the same key: a uuid is never a patient's hash."""
_FINGERPRINT = b"card-uuid-key\x00"


class CardIds:
    """The uuid of a card (or of a suggestion, from its card's uuid) for the given parts."""

    def __init__(self, key: bytes):
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the card-uuid key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self.fingerprint = hmac.new(key, _FINGERPRINT, hashlib.sha256).hexdigest()[:32]
        """Names the key without giving it away: cards kept for one key are not another's."""

    def __call__(self, *parts: str) -> str:
        digest = hmac.new(self._key, _DOMAIN + "|".join(parts).encode(), hashlib.sha256).digest()
        value = int.from_bytes(digest[:16], "big")
        value &= ~(0xF << 76) & ~(0x3 << 62)  # clear the version and variant bits
        value |= (0x8 << 76) | (0x2 << 62)  # version 8, variant RFC 9562
        return str(uuid.UUID(int=value))


PROCESS_IDS = CardIds(secrets.token_bytes(32))
"""For calls made without the service's key (the command line, rule-file examples, replays):
stable within one run, recomputable by no one."""
