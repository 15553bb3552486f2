"""Composition roots: one per process. Each reads its settings once and wires the parts."""
