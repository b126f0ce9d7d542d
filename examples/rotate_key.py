"""Rotate the API key this program runs with, then go on with the new token, without a restart.

Reads CADENYA_API_KEY and CADENYA_BASE_URL, and CADENYA_API_KEY_ID, the id of that key (`apikey_...`);
without it, the key is taken to be the account's system key.
"""

from __future__ import annotations

import os
import sys

import cadenya
from cadenya import Cadenya
from cadenya.models import Account


def main() -> int:
    with Cadenya() as client:
        account = client.account.get()
        if not isinstance(account, Account) or not account.info.global_api_key:
            print("call this with an API key", file=sys.stderr)
            return 1
        key_id = os.environ.get("CADENYA_API_KEY_ID") or account.info.global_api_key.metadata.id

        rotated = client.api_keys.rotate(key_id)
        print(f"rotated {rotated.metadata.name!r}: store the new token {rotated.spec.token[:12]}… in your secrets")

        try:
            client.account.get()
        except cadenya.AuthenticationError as error:
            print(f"the old token stopped working at once: {error.status_code} {error.code}")

        client = client.with_options(token=rotated.spec.token)  # same connections, new token
        keys = sum(1 for _ in client.api_keys.list())
        print(f"going on with the new token: {keys} active keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
