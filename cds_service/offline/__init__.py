"""The pipeline run without HTTP, for people who write rules and integrate EHRs: the examples
inside rule files run as tests, saved requests replayed through two rule sets, and requests
built from patient Bundles."""
