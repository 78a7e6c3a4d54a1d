"""``python -m etlcore`` runs the ``etl`` command, for environments without the script on PATH."""

from etlcore.cli import app

if __name__ == "__main__":
    app(prog_name="etl")
