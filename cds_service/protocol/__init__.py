"""What travels on the wire: CDS Hooks messages, the FHIR R4 resources they carry, and errors
answered as OperationOutcomes. The first stage of a call; it knows nothing of genes or rules."""
