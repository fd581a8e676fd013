import os
import sys
import uuid
from pathlib import Path

import pytest

# --import-mode=importlib puts no test directory on sys.path; the helpers module has a name
# no other service uses, so a whole-repo run cannot pick up another one.
sys.path.insert(0, str(Path(__file__).parent))

# The service signs review links and unsubscribe tokens with this; tests use a fresh one.
os.environ.setdefault("ALIGNED_APPROVAL_LINK_SECRET", uuid.uuid4().hex)


@pytest.fixture
async def smtp():
    from approval_helpers import smtp_server

    async with smtp_server() as (inbox, port):
        yield inbox, port
