"""Item pipelines: thin glue around tracker functions (prepare, keyword filter, store)."""
