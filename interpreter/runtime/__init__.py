"""L4 the runtime: the walker with a handler per node kind, doses, tracers, result assembly."""
