"""Reach never grows by a detour: random sequences of create, grant, withdraw, revoke, reveal, rotate, update
and createWorkspace, by random keys of one account, against the sandbox over real HTTP.

After every step: for every key P and every token handed to a call P authenticated that still works, what
that token reaches is within what P is granted (as the system key lists it). That is openapi.yaml's
invariant, "a principal never comes to hold a token that reaches a workspace it does not reach".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from cadenya.sandbox import SandboxServer

SYSTEM = "system"
SEQUENCES = 150
STEPS = 25
MAX_KEYS = 6
MAX_WORKSPACES = 4


class ReachMachine(RuleBasedStateMachine):
    """One fresh account per sequence; the machine knows every token the API handed out, and to whom."""

    server: ClassVar[SandboxServer]
    sequences: ClassVar[int] = 0
    steps: ClassVar[int] = 0
    refused: ClassVar[dict[str, int]] = {}

    def __init__(self) -> None:
        super().__init__()
        account = self.server.new_account("Reach")
        self.http = httpx.Client(base_url=self.server.base_url, timeout=30)
        self.current: dict[str, str] = {SYSTEM: account["apiKey"]}
        """Each key's token as the API last handed it out."""
        self.held: dict[str, set[str]] = {SYSTEM: set()}
        """The tokens handed to calls each key authenticated."""
        self.revoked: set[str] = set()
        self.keys: list[str] = []
        self.workspaces: list[str] = []
        type(self).sequences += 1

    def teardown(self) -> None:
        self.http.close()

    def call(self, actor: str, method: str, path: str, body: Any = None) -> httpx.Response:
        type(self).steps += 1
        headers = {"Authorization": f"Bearer {self.current[actor]}"}
        response = self.http.request(method, path, json=body, headers=headers)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            code = response.json()["code"]
            type(self).refused[code] = type(self).refused.get(code, 0) + 1
        return response

    def pick(self, data: st.DataObject, choices: list[str], label: str) -> str:
        return data.draw(st.sampled_from(choices), label=label)

    def actor(self, data: st.DataObject) -> str:
        return self.pick(data, [SYSTEM, *(k for k in self.keys if k not in self.revoked)], "actor")

    def handed(self, actor: str, key: str, token: str) -> None:
        self.current[key] = token
        if actor != SYSTEM:
            self.held[actor].add(token)

    @initialize()
    def two_workspaces(self) -> None:
        for name in ("prod", "staging"):
            self.workspaces.append(self.call(SYSTEM, "POST", "/v1/workspaces", {"name": name}).json()["metadata"]["id"])

    @precondition(lambda self: len(self.keys) < MAX_KEYS)
    @rule(data=st.data(), revealable=st.booleans())
    def create_key(self, data: st.DataObject, revealable: bool) -> None:
        actor = self.actor(data)
        granted = data.draw(st.lists(st.sampled_from(self.workspaces), unique=True, max_size=2), label="workspaces")
        body = {"name": "k", "revealable": revealable, "workspaceIds": granted}
        response = self.call(actor, "POST", "/v1/api-keys", body)
        if response.status_code == 201:
            key = response.json()["metadata"]["id"]
            self.keys.append(key)
            self.held[key] = set()
            self.handed(actor, key, response.json()["spec"]["token"])

    @precondition(lambda self: len(self.workspaces) < MAX_WORKSPACES)
    @rule(data=st.data())
    def create_workspace(self, data: st.DataObject) -> None:
        response = self.call(self.actor(data), "POST", "/v1/workspaces", {"name": "w"})
        assert response.status_code == 201
        self.workspaces.append(response.json()["metadata"]["id"])

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def grant(self, data: st.DataObject) -> None:
        key, workspace = self.pick(data, self.keys, "key"), self.pick(data, self.workspaces, "workspace")
        self.call(self.actor(data), "PUT", f"/v1/api-keys/{key}/workspaces/{workspace}")

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        key, workspace = self.pick(data, self.keys, "key"), self.pick(data, self.workspaces, "workspace")
        self.call(self.actor(data), "DELETE", f"/v1/api-keys/{key}/workspaces/{workspace}")

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        key = self.pick(data, self.keys, "key")
        if self.call(self.actor(data), "DELETE", f"/v1/api-keys/{key}").status_code == 204:
            self.revoked.add(key)

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def reveal(self, data: st.DataObject) -> None:
        actor, key = self.actor(data), self.pick(data, self.keys, "key")
        response = self.call(actor, "POST", f"/v1/api-keys/{key}/reveal")
        if response.status_code == 200:
            self.handed(actor, key, response.json()["token"])

    @rule(data=st.data())
    def rotate(self, data: st.DataObject) -> None:
        actor, key = self.actor(data), self.pick(data, [SYSTEM, *self.keys], "key")
        response = self.call(actor, "POST", f"/v1/api-keys/{self.key_id(key)}/rotate")
        if response.status_code == 200:
            self.handed(actor, key, response.json()["spec"]["token"])

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        self.call(self.actor(data), "PATCH", f"/v1/api-keys/{self.pick(data, self.keys, 'key')}", {"name": "u"})

    def key_id(self, key: str) -> str:
        if key != SYSTEM:
            return key
        account = self.call(SYSTEM, "GET", "/v1/account").json()
        return str(account["info"]["globalApiKey"]["metadata"]["id"])

    def listed(self, actor_token: str, path: str) -> set[str]:
        """Every workspace id of a list, all pages."""
        ids: set[str] = set()
        params: dict[str, Any] = {"pageSize": 100}
        while True:
            response = self.http.get(path, params=params, headers={"Authorization": f"Bearer {actor_token}"})
            assert response.status_code == 200, response.text
            page = response.json()
            ids |= {item["metadata"]["id"] for item in page["items"]}
            if "nextPageToken" not in page:
                return ids
            params["pageToken"] = page["nextPageToken"]

    def live(self, token: str) -> bool:
        return token in {self.current[key] for key in self.current if key not in self.revoked}

    @invariant()
    def no_held_token_reaches_beyond_its_holder(self) -> None:
        for holder, tokens in self.held.items():
            if holder == SYSTEM or not (live := [token for token in tokens if self.live(token)]):
                continue
            granted = self.listed(self.current[SYSTEM], f"/v1/api-keys/{holder}/workspaces")
            for token in live:
                reached = self.listed(token, "/v1/workspaces")
                assert reached <= granted, f"{holder} holds a token reaching {sorted(reached - granted)}"


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_reach_never_grows_by_a_detour(sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    """After every step of every random sequence, no key holds a live token that reaches beyond its grants."""
    ReachMachine.server, ReachMachine.sequences, ReachMachine.steps = sandbox, 0, 0
    ReachMachine.refused = {}
    run_state_machine_as_test(
        ReachMachine,
        settings=settings(
            max_examples=SEQUENCES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert ReachMachine.sequences >= SEQUENCES
    assert ReachMachine.refused.get("api_key_token_held", 0) > 0, "no sequence reached the held-token refusal"
    with capsys.disabled():
        print(
            f"\nreach: {ReachMachine.sequences} sequences, {ReachMachine.steps} calls, refused {ReachMachine.refused}"
        )


# --- each rule, one scenario --------------------------------------------------------------------------


class Account:
    """Raw calls to one fresh account of the sandbox."""

    def __init__(self, server: SandboxServer) -> None:
        self.system = server.new_account("Rules")["apiKey"]
        self.http = httpx.Client(base_url=server.base_url, timeout=30)

    def call(self, token: str, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})

    def workspace(self, name: str, token: str | None = None) -> str:
        response = self.call(token or self.system, "POST", "/v1/workspaces", {"name": name})
        assert response.status_code == 201, response.text
        return str(response.json()["metadata"]["id"])

    def key(self, workspaces: list[str], token: str | None = None, *, revealable: bool = False) -> tuple[str, str]:
        body = {"name": "k", "workspaceIds": workspaces, "revealable": revealable}
        response = self.call(token or self.system, "POST", "/v1/api-keys", body)
        assert response.status_code == 201, response.text
        return response.json()["metadata"]["id"], response.json()["spec"]["token"]

    def grant(self, key: str, workspace: str, token: str | None = None) -> httpx.Response:
        return self.call(token or self.system, "PUT", f"/v1/api-keys/{key}/workspaces/{workspace}")

    def reaches(self, token: str, workspace: str) -> bool:
        return self.call(token, "GET", f"/v1/workspaces/{workspace}").status_code == 200


@pytest.fixture
def acct(sandbox: SandboxServer) -> Iterator[Account]:
    account = Account(sandbox)
    yield account
    account.http.close()


def test_a_revealed_token_does_not_gain_what_its_revealer_lacks(acct: Account) -> None:
    """A narrow key reveals a key with no workspace; granting that key `prod` is 409, so the token never reaches it."""
    prod = acct.workspace("prod")
    _, narrow = acct.key([])
    target, _ = acct.key([], revealable=True)
    revealed = acct.call(narrow, "POST", f"/v1/api-keys/{target}/reveal").json()["token"]
    refused = acct.grant(target, prod)
    assert (refused.status_code, refused.json()["code"]) == (409, "api_key_token_held")
    assert not acct.reaches(revealed, prod)


def test_a_created_key_does_not_gain_what_its_creator_lacks(acct: Account) -> None:
    """The creator holds the new key's token: granting the new key a workspace the creator lacks is 409."""
    dev, prod = acct.workspace("dev"), acct.workspace("prod")
    _, creator = acct.key([dev])
    created, created_token = acct.key([dev], creator)
    assert acct.grant(created, prod).status_code == 409
    assert not acct.reaches(created_token, prod)


def test_rotating_first_leaves_the_token_with_the_caller_alone(acct: Account) -> None:
    """After the system key rotates it, the key may be granted anything: its old holder's token is dead."""
    prod = acct.workspace("prod")
    _, creator = acct.key([])
    created, old_token = acct.key([], creator)
    rotated = acct.call(acct.system, "POST", f"/v1/api-keys/{created}/rotate").json()["spec"]["token"]
    assert acct.grant(created, prod).status_code == 200
    assert acct.reaches(rotated, prod) and not acct.reaches(old_token, prod)


def test_a_revoked_holder_blocks_every_grant(acct: Account) -> None:
    """A revoked key reaches nothing any more, so a key whose token it holds gains nothing until rotated."""
    dev = acct.workspace("dev")
    creator_id, creator = acct.key([dev])
    created, _ = acct.key([], creator)
    assert acct.call(acct.system, "DELETE", f"/v1/api-keys/{creator_id}").status_code == 204
    assert acct.grant(created, dev).json()["code"] == "api_key_token_held"


def test_withdrawing_a_workspace_flows_down_to_the_keys_a_key_holds(acct: Account) -> None:
    """Withdrawing `prod` from a key withdraws it from the key it created, and from the key that one created."""
    prod = acct.workspace("prod")
    holder_id, holder = acct.key([prod])
    _, middle = acct.key([prod], holder)
    _, last = acct.key([prod], middle)
    assert acct.call(acct.system, "DELETE", f"/v1/api-keys/{holder_id}/workspaces/{prod}").status_code == 204
    assert not any(acct.reaches(token, prod) for token in (holder, middle, last))


def test_a_new_workspace_flows_up_to_the_keys_that_hold_its_creator(acct: Account) -> None:
    """A key's new workspace is granted to the key that created it too, so the invariant keeps holding."""
    _, holder = acct.key([])
    _, created = acct.key([], holder)
    fresh = acct.workspace("fresh", created)
    assert acct.reaches(created, fresh) and acct.reaches(holder, fresh)
