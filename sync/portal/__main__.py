"""`python -m sync.portal portal serve ...`: the portal's commands, without the kiosk's.

How ``start_portal`` runs the portal in a child process: the same parser and dispatch
as `kiosk portal ...`, with nothing from the layers above sync.
"""

from kiosk.cli import build_parser, dispatch
from sync.portal import commands

if __name__ == "__main__":
    raise SystemExit(dispatch(build_parser([commands])))
