"""The `kiosk` entry point: wires the domain (kiosk), sync and the UI (screens) together.

The top layer: it may import every other package, and none imports it.
"""
