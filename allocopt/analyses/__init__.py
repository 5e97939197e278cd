"""Analyses built on solves: policies, the essay's heuristics, sweeps, Monte Carlo, the outcomes
after acceleration and scenario trees, all run through one runner (local processes or Dask)."""
