"""Compiled kernels: one pass of one algorithm per module (nogil, OpenMP)."""
