"""``python -m parafraim_build``: the same as the ``parafraim-build`` command."""

from __future__ import annotations

from parafraim_build.cli import main

if __name__ == "__main__":
    main(prog_name="parafraim-build")
