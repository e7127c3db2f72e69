"""Model faults: a bad deploy that breaks inference while shallow health stays green."""
