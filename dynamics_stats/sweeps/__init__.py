"""Sweep studies: which hyper-parameters drive performance and pathologies across runs."""
