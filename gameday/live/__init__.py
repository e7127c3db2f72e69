"""Game-day mode's live view: the run folder read as it is written (``tail``, ``figures``),
drawn in a plain terminal (``dashboard``), and the operator's keys (``keys``, ``operator``),
tied together by ``session``."""
