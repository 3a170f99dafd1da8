"""Test support: a local Azure ML REST stand-in, Azurite, fake credentials, Kedro projects."""
