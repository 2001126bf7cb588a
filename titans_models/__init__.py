"""Titans networks (MAC, MAG, MAL) built on compiled memory rules."""
