"""The method-comparison harness: same prompts, generator and budget through every method,
one RM recipe, one evaluation on real human data, one report."""
