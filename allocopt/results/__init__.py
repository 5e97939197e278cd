"""What a run returns: the :class:`~allocopt.results.result.Result` (schedule, scenario, versions,
tidy tables), solver statuses, saving and loading, and exports."""
