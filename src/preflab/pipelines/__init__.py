"""Pipelines: the multi-step runs that compose the parts (records, io, llm, rm, methods, judges,
evaluation). The resumable generation run (:mod:`.generation`), iterative West-of-N
(:mod:`.west_of_n_rounds`), the method-comparison bench (:mod:`.bench`) and preference-strength
orchestration. Each reads top to bottom; none is imported by a part."""
