"""Cards from the rules that fired: templates filled, suggestions built, evidence shown."""
