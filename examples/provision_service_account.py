"""Provision a service account with a credential for a deploy job, idempotently.

Reads CADENYA_API_KEY and CADENYA_BASE_URL. Running it twice creates nothing the second time: the
service account is found by name, and the credential's create carries a fixed Idempotency-Key, so a retried
or repeated create answers the first result instead of making another credential.
"""

from __future__ import annotations

import sys

from cadenya import Cadenya
from cadenya.models import Account, ServiceAccount

NAME = "deploy-bot"


def find_or_create(client: Cadenya, organization_id: str) -> ServiceAccount:
    for existing in client.service_accounts.list(organization_id):
        if existing.name == NAME:
            return existing
    return client.service_accounts.create(organization_id, name=NAME, description="Deploys from CI")


def main() -> int:
    with Cadenya() as client:
        account = client.account.get()
        organization_id = account.metadata.id if isinstance(account, Account) else account.id
        robot = find_or_create(client, organization_id)
        credential = client.service_accounts.credentials.create(
            organization_id, robot.id, name="ci", idempotency_key=f"provision-{robot.id}-ci"
        )
        print(f"service account {robot.name} ({robot.id})")
        print(f"credential {credential.name}: client id {credential.client_id}")
        print(f"client secret, shown this once: {credential.client_secret[:10]}…")
        listed = [
            c.id for c in client.service_accounts.credentials.list(organization_id, robot.id, expand=["permissions"])
        ]
        print(f"{len(listed)} credential(s) on {robot.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
