"""``harvest``: a thin command line over the library (:mod:`.app`), its parser
(:mod:`.parser`) and what it shows while a cycle runs (:mod:`.progress`)."""

from .app import main

__all__ = ["main"]
