"""``python -m neotrack`` is the ``neotrack`` command."""

from neotrack.cli import main

main()
