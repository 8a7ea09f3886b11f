"""Channel-agnostic conversation logic: plain dataclasses in and out."""
