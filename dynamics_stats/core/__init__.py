"""Bottom layer: types, errors, configuration, run and result objects."""
