"""Concept Coach: learn chess ideas from a self-taught network."""

__version__ = "0.1.0"
