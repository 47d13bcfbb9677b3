"""Item pipelines: thin glue around tracker functions (keyword filter, store)."""
