"""The tables of ``rules/knowledge/`` (drugs, genomics, oncology, care, procedures, biomarkers,
anthracyclines), their JSON Schemas, and the YAML reader with lines that they and the rule files
share. Facts are read through these tables; nothing here knows FHIR requests or the engine."""
