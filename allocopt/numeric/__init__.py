"""Numeric inputs as arrays (:class:`~allocopt.numeric.inputs.Inputs`), the capability trajectory,
the concave curves, and the exact simulator that evaluates any schedule without a solver."""
