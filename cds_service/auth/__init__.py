"""Who may call: the CDS client's JWT, checked before anything of the request is read.

CDS Hooks 2.0.1 §Trusting CDS Clients: every call (discovery, service, feedback) carries a JWT
signed by the EHR. :mod:`trust` reads which clients are trusted, :mod:`keysets` finds their
public keys, :mod:`verify` checks a token, :mod:`jtistore` remembers the ``jti`` seen, and
:mod:`guard` answers every failure with the same 401. :mod:`fhirurl` keeps the FHIR fallback
on the servers the operator allowed.
"""
