"""L1 loading: strict YAML with a source map, the JSON Schema check, the model, the library and the lock."""
