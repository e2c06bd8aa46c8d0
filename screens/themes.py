"""The kiosk's two themes: calm default, and high contrast for low vision."""

from __future__ import annotations

from textual.theme import Theme

DEFAULT_THEME = "kiosk"
CONTRAST_THEME = "kiosk-contrast"

# Light, calm and readable: dark text on a warm light ground, strong blue for actions.
KIOSK_THEME = Theme(
    name=DEFAULT_THEME,
    primary="#1d4f91",
    secondary="#2f6f4f",
    accent="#b35c00",
    warning="#8a5a00",
    error="#b00020",
    success="#1e6b35",
    foreground="#111111",
    background="#f4f1ea",
    surface="#fffdf8",
    panel="#e2ddd0",
    dark=False,
)
# Black and white with yellow focus, for low vision (WCAG AAA contrast everywhere).
CONTRAST_THEME_DEF = Theme(
    name=CONTRAST_THEME,
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    warning="#ffff00",
    error="#ff6060",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    dark=True,
)
