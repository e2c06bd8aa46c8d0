"""`python -m mahalla ...` is `kiosk ...` (tests and scripts run it so)."""

from mahalla.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
