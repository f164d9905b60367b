"""Template drawings. Each module draws a few templates with the helpers of `base`."""
