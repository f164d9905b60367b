"""Designs: templates as data (docs/templates.md). `schema` is the published JSON Schema,
`validate` checks a design, `refs` reads its field references."""
