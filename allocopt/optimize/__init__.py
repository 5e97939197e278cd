"""Optimization: the one HiGHS adapter, the program solved once or re-linearized in the outer
loop, persistent sessions, infeasibility diagnosis, shadow prices and extensive forms."""
