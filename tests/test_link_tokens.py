"""Link and session tokens: random, and stored only as their SHA-256."""

import hashlib

from campaign.link_tokens import new_token, token_hash


def test_a_token_is_stored_as_its_sha256_which_links_already_mailed_rely_on():
    token, stored = new_token()
    # The stored form must not change: every link mailed before is looked up by it.
    assert stored == token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) == 43  # 32 random bytes, URL-safe
    assert new_token()[0] != token
