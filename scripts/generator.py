"""`python -m scripts.generator generate ...`: openapi-python-client's own command line, unchanged, with the
filters of scripts/deprecations.py added to the ones its templates see. scripts/generate.py runs it."""

import openapi_python_client

from scripts import deprecations

openapi_python_client.TEMPLATE_FILTERS.update(deprecations.FILTERS)

if __name__ == "__main__":
    from openapi_python_client.cli import app

    app()
