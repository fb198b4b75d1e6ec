"""Measuring (strength ensembles) and repairing (flip/drop/smooth/margin) preference noise."""
