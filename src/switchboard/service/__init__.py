"""The Litestar scoring service."""
