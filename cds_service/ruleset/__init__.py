"""Rule files: read with their lines, validated against their schemas, conditions compiled for
the engine, cards checked, and the whole set loaded, hot-reloaded and served per hook."""
