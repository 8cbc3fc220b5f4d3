"""The JSON Schema of report.json, published with the package."""
