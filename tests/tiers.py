"""Where `make test` runs each test file: once, in the dev venv, or in the cells of the matrix (noxfile.py).

A matrix cell varies the interpreter and the runtime dependencies (httpx or httpx2, attrs, anyio, at their
lowest or newest). A test whose outcome cannot depend on those runs once:

- TOOLING: the repository's tools and documents: the generator and its golden output, the spec, the API
  reference, the surface snapshot, the breaking-change gate, mypy over the README and user programs, the
  bench's statistics, `make test`'s own summary, the version and changelog.
- SANDBOX_PROCESS and SANDBOX_API: the sandbox itself (its server, CLI and processes, webhook sender, answers
  to hostile input and the pytest plugin; its authorization table, the error codes it answers, reach over
  random sequences), whose own dependencies are the same exact pins in every cell (the `test` extra).

The rest tests the client against its runtime dependencies:

- WIRE: the client over real HTTP against the sandbox, end to end (every operation and call style, retries,
  timeouts, forward compatibility, threads, loops and forks, the examples). It runs in the WIRE_CELLS of
  noxfile.py, chosen so that every interpreter and every HTTP stack (httpx lowest and newest, httpx2 lowest
  and newest, httpx2 alone) runs it at least once.
- every other file (models, the send path over MockTransport, hardening, the HTTP library and its options
  over real sockets, lazy imports, packaging): every cell.

Standard library only: noxfile.py reads it without the test dependencies.
"""

from __future__ import annotations

TOOLING = frozenset(
    {
        "test_apiref.py",
        "test_bench.py",
        "test_breaking_gate.py",
        "test_breaking_wire.py",
        "test_ci.py",
        "test_deprecations.py",
        "test_generate.py",
        "test_generated_size.py",
        "test_import_graph.py",
        "test_pagination_overloads.py",
        "test_readme.py",
        "test_resource_layer.py",
        "test_spec.py",
        "test_spec_bundle.py",
        "test_spec_contract.py",
        "test_surface.py",
        "test_template_provenance.py",
        "test_user_typing.py",
        "test_versions.py",
    }
)
SANDBOX_PROCESS = frozenset(
    {
        "test_lib_pytest_plugin.py",
        "test_make_sandbox.py",
        "test_sandbox.py",
        "test_sandbox_fuzz.py",
        "test_sandbox_input.py",
        "test_sandbox_testing.py",
        "test_sandbox_webhooks.py",
        "test_sandbox_without_extra.py",
    }
)
SANDBOX_API = frozenset({"test_authorization.py", "test_e2e_error_codes.py", "test_e2e_reach.py"})
WIRE = frozenset(
    {
        "test_concurrency.py",
        "test_e2e_account_and_workspaces.py",
        "test_e2e_api_keys.py",
        "test_e2e_forward_compat.py",
        "test_e2e_hardening.py",
        "test_e2e_request_ids.py",
        "test_e2e_resources.py",
        "test_e2e_service_accounts.py",
        "test_examples.py",
        "test_lib_pool.py",
        "test_quickstart.py",
    }
)
ONCE = TOOLING | SANDBOX_PROCESS | SANDBOX_API
