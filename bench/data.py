"""The payloads the benchmarks decode and encode, shaped like the seed's APIKey example."""

from __future__ import annotations

import json
from typing import Any


def api_key(index: int) -> dict[str, Any]:
    """One APIKey as the API returns it: metadata with labels, spec, and info with a workspaces preview."""
    return {
        "metadata": {
            "id": f"apikey_01JD7Z3M5W8Q2R4T6Y8U{index:06d}",
            "accountId": "acct_01JD7Z3M5W8Q2R4T6Y8U0I2O4P",
            "name": f"CI deploy key {index}",
            "profileId": f"prof_01JD7Z3M5W8Q2R4T6Y8U{index:06d}",
            "externalId": f"ext-{index}",
            "labels": {"environment": "production", "team": "platform", "version": "v2"},
        },
        "spec": {
            "description": "Used by the deploy pipeline.",
            "permissions": ["manage:agents", "read:workspaces"],
            "system": False,
        },
        "info": {
            "createdBy": {
                "metadata": {
                    "id": "prof_01JD7Z3M5W8Q2R4T6Y8U0I2O4Q",
                    "accountId": "acct_01JD7Z3M5W8Q2R4T6Y8U0I2O4P",
                    "name": "Global API key",
                    "profileId": "prof_01JD7Z3M5W8Q2R4T6Y8U0I2O4Q",
                },
                "spec": {"type": "PROFILE_TYPE_SYSTEM", "name": "Global API key"},
            },
            "workspacesPreview": [
                {"id": "ws_01JD7Z3M5W8Q2R4T6Y8U0I2O4A", "name": "Production"},
                {"id": "ws_01JD7Z3M5W8Q2R4T6Y8U0I2O4B", "name": "Staging"},
            ],
            "workspacesTotal": 4,
            "revealAvailable": False,
            "createdAt": "2026-01-02T03:04:05.123456Z",
            "lastUsedAt": "2026-11-20T10:11:12.654321Z",
        },
    }


def api_key_page(count: int = 1000) -> bytes:
    """A ListAPIKeysResponse of `count` keys, as bytes on the wire."""
    return json.dumps({"items": [api_key(i) for i in range(count)], "nextPageToken": "MTAwMDpjMGZmZWU"}).encode()


CREATE_REQUEST: dict[str, Any] = {
    "name": "CI deploy key",
    "description": "Used by the deploy pipeline.",
    "permissions": ["manage:agents", "read:workspaces"],
    "labels": {"environment": "production", "team": "platform"},
    "externalId": "ext-1",
    "workspaceIds": ["ws_01JD7Z3M5W8Q2R4T6Y8U0I2O4A", "ws_01JD7Z3M5W8Q2R4T6Y8U0I2O4B"],
    "revealable": True,
}
