import pytest

from aligned_testing.sandbox import PkcePair, bearer, redirect_query

pytestmark = pytest.mark.unit

CLIENT_ID = "aligned-test"
REDIRECT_URI = "http://app.test/oauth/callback"


async def test_authorization_code_with_pkce_gives_tokens_for_the_account(oauth, client):
    pkce = PkcePair.generate()
    code = await oauth.code(pkce, account="alice", state="xyz")

    response = await oauth.exchange(code, pkce.verifier)

    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300
    assert tokens["refresh_token"]
    me = await client.get("/api/v1/me", headers=bearer(tokens))
    assert me.json()["name"] == "alice"


async def test_the_same_account_name_is_the_same_account(connect, client):
    first = (await client.get("/api/v1/me", headers=bearer(await connect("bob")))).json()
    second = (await client.get("/api/v1/me", headers=bearer(await connect("bob")))).json()
    assert first["id"] == second["id"]


async def test_a_wrong_code_verifier_is_refused(oauth):
    code = await oauth.code(PkcePair.generate())
    response = await oauth.exchange(code, PkcePair.generate().verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_code_works_once_and_its_reuse_revokes_what_it_gave(oauth, client):
    pkce = PkcePair.generate()
    code = await oauth.code(pkce)
    tokens = (await oauth.exchange(code, pkce.verifier)).json()

    reuse = await oauth.exchange(code, pkce.verifier)

    assert reuse.json()["error"] == "invalid_grant"
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401


async def test_the_redirect_uri_must_match_the_authorization_request(oauth):
    pkce = PkcePair.generate()
    code = await oauth.code(pkce)
    response = await oauth.exchange(code, pkce.verifier, redirect_uri="http://evil.test/cb")
    assert response.json()["error"] == "invalid_grant"


async def test_an_expired_code_is_refused(oauth, client):
    pkce = PkcePair.generate()
    code = await oauth.code(pkce)
    await client.post("/_control/clock/advance", json={"seconds": 61})
    assert (await oauth.exchange(code, pkce.verifier)).json()["error"] == "invalid_grant"


async def test_plain_pkce_is_refused(client):
    response = await client.get(
        "/oauth/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": "a" * 43,
            "code_challenge_method": "plain",
            "auto_approve": "1",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_missing_or_unsupported_grant_fields_are_oauth_errors(client):
    response = await client.post("/oauth/token", data={"grant_type": "authorization_code"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    unsupported = await client.post("/oauth/token", data={"grant_type": "password"})
    assert unsupported.json()["error"] == "unsupported_grant_type"


async def test_consent_page_then_form_post_redirects_with_a_code(oauth, client):
    pkce = PkcePair.generate()
    page = await client.get(oauth.authorize_url(pkce, state="s"))
    assert page.status_code == 200 and "<form" in page.text

    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": "s",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    decision = await client.post("/oauth/authorize", data=params | {"account": "carol"})

    assert decision.status_code == 302
    query = redirect_query(decision.headers["location"])
    assert query["state"] == "s"
    assert (await oauth.exchange(query["code"], pkce.verifier)).status_code == 200


async def test_json_variant_answers_where_to_redirect(client):
    pkce = PkcePair.generate()
    response = await client.post(
        "/oauth/authorize",
        headers={"Accept": "application/json"},
        json={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "state": "s",
            "account": "dave",
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
        },
    )
    assert response.json()["redirect_to"].startswith(REDIRECT_URI + "?code=")


async def test_refresh_without_rotation_omits_the_refresh_token_and_the_old_one_keeps_working(
    connect, oauth, client
):
    tokens = await connect()

    first = await oauth.refresh(tokens["refresh_token"])
    second = await oauth.refresh(tokens["refresh_token"])

    assert first.status_code == second.status_code == 200
    assert "refresh_token" not in first.json()
    assert first.json()["access_token"] != tokens["access_token"]
    assert (await client.get("/api/v1/me", headers=bearer(second.json()))).status_code == 200


async def test_refresh_with_rotation_replaces_the_refresh_token(connect, oauth, client):
    await client.post("/_control/config", json={"rotate_refresh_tokens": True})
    tokens = await connect()

    rotated = (await oauth.refresh(tokens["refresh_token"])).json()
    old_again = await oauth.refresh(tokens["refresh_token"])

    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert old_again.json()["error"] == "invalid_grant"
    assert (await oauth.refresh(rotated["refresh_token"])).status_code == 200


async def test_access_token_expires_after_its_ttl(connect, client):
    await client.post("/_control/config", json={"token_ttl_s": 30})
    tokens = await connect()
    assert tokens["expires_in"] == 30
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 200

    await client.post("/_control/clock/advance", json={"seconds": 31})

    expired = await client.get("/api/v1/me", headers=bearer(tokens))
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_token"
    assert "invalid_token" in expired.headers["www-authenticate"]


async def test_revoking_the_access_token_ends_it_only(connect, oauth, client):
    tokens = await connect()
    await client.post("/oauth/revoke", data={"token": tokens["access_token"]})

    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401
    assert (await oauth.refresh(tokens["refresh_token"])).status_code == 200


async def test_revoking_the_refresh_token_ends_the_whole_grant(connect, oauth, client):
    tokens = await connect()
    response = await client.post("/oauth/revoke", data={"token": tokens["refresh_token"]})

    assert response.status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401
    assert (await oauth.refresh(tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def test_unknown_or_missing_tokens_are_refused(client):
    assert (await client.get("/api/v1/me")).status_code == 401
    unknown = await client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert unknown.json()["error"] == "invalid_token"
