"""Tests of the corpus readers (index.readers)."""
