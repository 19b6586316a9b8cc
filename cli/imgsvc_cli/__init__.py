"""``imgsvc``: the image service's command-line client (``client`` talks HTTP, ``main`` parses
arguments and runs commands, ``output`` prints)."""
