"""The patient's data for one call: what the client prefetched, what the service must fetch
from the client's FHIR server (templates, the fallback client), and the record they make."""
