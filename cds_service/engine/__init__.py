"""The rules engine: durable-rules, hardened, behind one module (``durable``)."""
