"""Test support: a local Azure ML REST stand-in, Azurite, and fake credentials.

Importable as ``support`` from tests (``tests/`` is on ``sys.path`` through ``tests/conftest.py``).
"""
