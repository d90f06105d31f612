"""The demo company's document layouts: the built-in layout of every document, stored so
that the administrator can open and edit them."""

from .services import ensure_default_layouts


def build():
    """Store the default layouts (journaled in the demo's audit context)."""
    return {"layouts": ensure_default_layouts()}
