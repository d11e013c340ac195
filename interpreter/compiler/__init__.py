"""L3 the compiler: model + compiled expressions + checks -> CompiledGuideline; the loader pipeline."""
