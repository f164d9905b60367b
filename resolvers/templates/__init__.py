"""Templates as data (docs/templates.md): checking designs, storing them with their versions,
and drawing them."""
