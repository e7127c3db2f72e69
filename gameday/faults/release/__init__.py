"""Model releases as experiments: a canary analysed step by step, a blue-green switch, and a
rollback rehearsal (``actions``); their weights, metrics and loop in the modules beside it."""
