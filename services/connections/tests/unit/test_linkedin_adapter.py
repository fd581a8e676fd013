"""LinkedInAdapter against answers written from LinkedIn's versioned REST reference
(learn.microsoft.com/linkedin), through httpx.MockTransport."""

import pytest
from pydantic import SecretStr

from aligned_connections.adapters.platforms import (
    AuthFailure,
    AuthorizationCode,
    MediaAttachment,
    MetricName,
    PublishRequest,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.linkedin import LinkedInAdapter

from .platform_fixtures import FakePlatform, answer, form_of, json_of, lost

pytestmark = pytest.mark.unit

TOKEN = "li-access-token"
PERSON = "urn:li:person:782bbtaQ"
ORG = "urn:li:organization:2414183"
SHARE = "urn:li:share:6844785523593134080"
USERINFO = {"sub": "782bbtaQ", "name": "Ada Lovelace", "email_verified": True, "locale": "en-US"}
ACLS = {
    "paging": {"count": 10, "start": 0, "links": []},
    "elements": [{"roleAssignee": PERSON, "state": "APPROVED", "role": "ADMINISTRATOR", "organization": ORG}],
}
CREATED = answer(201, headers={"x-restli-id": SHARE})
INVALID_TOKEN = {
    "status": 401,
    "serviceErrorCode": 65600,
    "code": "INVALID_ACCESS_TOKEN",
    "message": "Invalid access token",
}


@pytest.fixture
async def linkedin():
    platform = FakePlatform()
    async with platform.client() as client:
        adapter = LinkedInAdapter(
            "client-id", "client-secret", http_client=client, api_version="202510", video_poll_interval_s=0
        )
        yield adapter, platform


def post(text="Launch day", media=(), account_id=PERSON, **options):
    return PublishRequest(
        text=text,
        media=tuple(media),
        idempotency_key="job-1:linkedin",
        account_id=account_id,
        options=options,
    )


async def test_exchange_code_and_a_refresh_token_when_linkedin_gives_one(linkedin):
    adapter, platform = linkedin
    tokens = {
        "access_token": "AQUv",
        "expires_in": 5183999,
        "refresh_token": "AQWA",
        "refresh_token_expires_in": 31535999,
        "scope": "openid,profile,w_member_social",
    }
    platform.on("POST", "/oauth/v2/accessToken", answer(200, tokens))
    got = await adapter.exchange_code(
        AuthorizationCode(code="c", code_verifier="v" * 43, redirect_uri="https://a/cb")
    )
    form = form_of(platform.requests[0])
    assert form["client_secret"] == "client-secret" and form["grant_type"] == "authorization_code"
    assert "code_verifier" not in form  # LinkedIn's web flow takes no PKCE
    assert got.scopes == ("openid", "profile", "w_member_social")  # LinkedIn lists them with commas
    assert got.refresh_token == SecretStr("AQWA") and got.expires_at is not None
    await adapter.refresh("AQWA")
    assert form_of(platform.requests[1])["grant_type"] == "refresh_token"


async def test_the_member_and_every_page_they_administer_are_accounts(linkedin):
    adapter, platform = linkedin
    platform.on("GET", "/v2/userinfo", answer(200, USERINFO))
    platform.on("GET", "/rest/organizationAcls", answer(200, ACLS))
    platform.on(
        "GET", "/rest/organizations/2414183", answer(200, {"id": 2414183, "localizedName": "Acme Corp"})
    )
    accounts = await adapter.list_accounts(TOKEN)
    assert [(a.id, a.name) for a in accounts] == [(PERSON, "Ada Lovelace"), (ORG, "Acme Corp")]
    acl_request = platform.calls("GET", "/rest/organizationAcls")[0]
    assert acl_request.headers["linkedin-version"] == "202510"
    assert acl_request.url.params["role"] == "ADMINISTRATOR"


async def test_publish_text_as_the_member_with_visibility(linkedin):
    adapter, platform = linkedin
    platform.on("POST", "/rest/posts", CREATED)
    published = await adapter.publish(TOKEN, post("Hello (world) #launch", visibility="connections"))
    body = json_of(platform.requests[0])
    assert body["author"] == PERSON and body["visibility"] == "CONNECTIONS"
    assert body["commentary"] == r"Hello \(world\) \#launch"  # little-text reserved characters escaped
    assert body["lifecycleState"] == "PUBLISHED" and "content" not in body
    assert platform.requests[0].headers["x-restli-protocol-version"] == "2.0.0"
    assert published.remote_id == SHARE
    assert published.url == f"https://www.linkedin.com/feed/update/{SHARE}/"


async def test_a_page_cannot_post_to_connections_only(linkedin):
    adapter, platform = linkedin
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(account_id=ORG, visibility="CONNECTIONS"))
    assert not platform.requests


def _image_fixtures(platform, *images):
    platform.on(
        "POST",
        "/rest/images",
        *(
            answer(
                200,
                {
                    "value": {
                        "uploadUrlExpiresAt": 1650567510704,
                        "uploadUrl": f"https://www.linkedin.com/dms-uploads/{i}",
                        "image": i,
                    }
                },
            )
            for i in images
        ),
    )
    for i in images:
        platform.on("PUT", f"/dms-uploads/{i}", answer(201))


async def test_publish_one_image_with_alt_text_as_a_page(linkedin):
    adapter, platform = linkedin
    _image_fixtures(platform, "urn:li:image:C4E10AQ1")
    platform.on("POST", "/rest/posts", CREATED)
    image = MediaAttachment(content=b"png-bytes", mime_type="image/png", alt_text="our new office")
    await adapter.publish(TOKEN, post(media=[image], account_id=ORG))
    assert json_of(platform.calls("POST", "/rest/images")[0]) == {"initializeUploadRequest": {"owner": ORG}}
    assert platform.calls("PUT", "/dms-uploads/urn:li:image:C4E10AQ1")[0].content == b"png-bytes"
    body = json_of(platform.calls("POST", "/rest/posts")[0])
    assert body["author"] == ORG
    assert body["content"] == {"media": {"id": "urn:li:image:C4E10AQ1", "altText": "our new office"}}


async def test_publish_several_images_is_a_multi_image_post(linkedin):
    adapter, platform = linkedin
    _image_fixtures(platform, "urn:li:image:A", "urn:li:image:B")
    platform.on("POST", "/rest/posts", CREATED)
    images = [
        MediaAttachment(content=b"a", mime_type="image/jpeg", alt_text="a"),
        MediaAttachment(content=b"b", mime_type="image/jpeg"),
    ]
    await adapter.publish(TOKEN, post(media=images))
    assert json_of(platform.calls("POST", "/rest/posts")[0])["content"] == {
        "multiImage": {
            "images": [{"id": "urn:li:image:A", "altText": "a"}, {"id": "urn:li:image:B", "altText": ""}]
        }
    }


async def test_publish_video_uploads_each_part_finalizes_and_waits(linkedin):
    adapter, platform = linkedin
    video = "urn:li:video:C5F10AQGKQg_6y2a4sQ"
    init = {
        "value": {
            "uploadUrlsExpireAt": 1633376851000,
            "video": video,
            "uploadInstructions": [
                {"uploadUrl": "https://www.linkedin.com/dms-uploads/part1", "lastByte": 5, "firstByte": 0},
                {"uploadUrl": "https://www.linkedin.com/dms-uploads/part2", "lastByte": 9, "firstByte": 6},
            ],
            "uploadToken": "",
        }
    }
    platform.on("POST", "/rest/videos", answer(200, init), answer(200))
    platform.on("PUT", "/dms-uploads/part1", answer(200, headers={"etag": "/ambry-video/signedId/one"}))
    platform.on("PUT", "/dms-uploads/part2", answer(200, headers={"etag": "/ambry-video/signedId/two"}))
    platform.on(
        "GET",
        f"/rest/videos/{video}",
        answer(200, {"status": "PROCESSING"}),
        answer(200, {"status": "AVAILABLE"}),
    )
    platform.on("POST", "/rest/posts", CREATED)
    await adapter.publish(
        TOKEN, post(media=[MediaAttachment(content=b"0123456789", mime_type="video/mp4")], video_title="Tour")
    )
    init_request, finalize_request = platform.calls("POST", "/rest/videos")
    assert json_of(init_request)["initializeUploadRequest"]["fileSizeBytes"] == 10
    assert platform.calls("PUT", "/dms-uploads/part1")[0].content == b"012345"
    assert "authorization" not in platform.calls("PUT", "/dms-uploads/part1")[0].headers
    assert json_of(finalize_request)["finalizeUploadRequest"]["uploadedPartIds"] == [
        "/ambry-video/signedId/one",
        "/ambry-video/signedId/two",
    ]
    assert len(platform.calls("GET", f"/rest/videos/{video}")) == 2
    assert json_of(platform.calls("POST", "/rest/posts")[0])["content"] == {
        "media": {"id": video, "title": "Tour"}
    }


async def test_a_lost_answer_is_settled_from_the_authors_posts_without_posting_again(linkedin):
    adapter, platform = linkedin
    platform.on("POST", "/rest/posts", lost())
    with pytest.raises(UnknownOutcome):
        await adapter.publish(TOKEN, post("Launch (day)"))
    platform.on("GET", "/v2/userinfo", answer(200, USERINFO))
    platform.on("GET", "/rest/organizationAcls", answer(200, ACLS))
    platform.on("GET", "/rest/organizations/2414183", answer(200, {"localizedName": "Acme Corp"}))
    member_posts = answer(
        403,
        {
            "status": 403,
            "serviceErrorCode": 100,
            "code": "ACCESS_DENIED",
            "message": "Not enough permissions",
        },
    )
    page_posts = answer(
        200, {"elements": [{"id": SHARE, "author": ORG, "commentary": r"Launch \(day\)"}], "paging": {}}
    )
    platform.on("GET", "/rest/posts", member_posts, page_posts)
    found = await adapter.find_post_by_marker(TOKEN, "Launch (day)")
    assert found is not None and found.remote_id == SHARE
    assert len(platform.calls("POST", "/rest/posts")) == 1
    assert [r.url.params["author"] for r in platform.calls("GET", "/rest/posts")] == [PERSON, ORG]


async def test_a_throttled_call_waits_for_linkedins_midnight_reset(linkedin):
    adapter, platform = linkedin
    platform.on(
        "POST",
        "/rest/posts",
        answer(429, {"status": 429, "message": "Resource level throttle APPLICATION DAY limit reached"}),
    )
    with pytest.raises(Retryable) as limited:
        await adapter.publish(TOKEN, post())
    assert limited.value.status_code == 429 and 0 < (limited.value.retry_after or 0) <= 86400


async def test_rejected_content_is_not_retryable_and_keeps_linkedins_words(linkedin):
    adapter, platform = linkedin
    body = {"status": 422, "message": "Content is a duplicate of urn:li:share:6844785523593134080"}
    platform.on("POST", "/rest/posts", answer(422, body))
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, post())
    assert "duplicate" in (refused.value.platform_message or "")


async def test_a_revoked_token_is_an_auth_failure(linkedin):
    adapter, platform = linkedin
    platform.on("POST", "/rest/posts", answer(401, INVALID_TOKEN))
    with pytest.raises(AuthFailure):
        await adapter.publish(TOKEN, post())


async def test_status_is_published_or_unknown(linkedin):
    adapter, platform = linkedin
    platform.on(
        "GET", f"/rest/posts/{SHARE}", answer(200, {"id": SHARE, "author": PERSON, "commentary": "hi"})
    )
    platform.on("GET", "/rest/posts/urn:li:share:1", answer(404, {"status": 404, "message": "Not Found"}))
    assert (await adapter.get_post_status(TOKEN, SHARE)) is not None
    assert await adapter.get_post_status(TOKEN, "urn:li:share:1") is None


async def test_metrics_likes_and_comments_for_all_and_impressions_for_pages_only(linkedin):
    adapter, platform = linkedin
    member_share = "urn:li:share:1"
    actions = {
        "likesSummary": {"totalLikes": 7, "likedByCurrentUser": False},
        "commentsSummary": {"aggregatedTotalComments": 2},
    }
    platform.on("GET", f"/rest/socialActions/{SHARE}", answer(200, actions))
    platform.on("GET", f"/rest/socialActions/{member_share}", answer(200, actions))
    platform.on("GET", f"/rest/posts/{SHARE}", answer(200, {"id": SHARE, "author": ORG}))
    platform.on("GET", f"/rest/posts/{member_share}", answer(200, {"id": member_share, "author": PERSON}))
    stats = {
        "elements": [
            {
                "share": SHARE,
                "organizationalEntity": ORG,
                "totalShareStatistics": {
                    "uniqueImpressionsCount": 90,
                    "shareCount": 3,
                    "engagement": 0.1,
                    "clickCount": 4,
                    "likeCount": 7,
                    "impressionCount": 120,
                    "commentCount": 2,
                },
            }
        ]
    }
    platform.on("GET", "/rest/organizationalEntityShareStatistics", answer(200, stats))
    points = await adapter.fetch_metrics(TOKEN, [SHARE, member_share])
    page = {p.name: p.value for p in points if p.remote_id == SHARE}
    member = {p.name: p.value for p in points if p.remote_id == member_share}
    assert page == {
        MetricName.LIKES: 7,
        MetricName.COMMENTS: 2,
        MetricName.IMPRESSIONS: 120,
        MetricName.REACH: 90,
        MetricName.SHARES: 3,
    }
    assert member == {MetricName.LIKES: 7, MetricName.COMMENTS: 2}  # LinkedIn gives members no impressions
    (stats_request,) = platform.calls("GET", "/rest/organizationalEntityShareStatistics")
    assert stats_request.url.params["organizationalEntity"] == ORG
    assert b"shares=List(urn%3Ali%3Ashare%3A6844785523593134080)" in stats_request.url.query


async def test_a_member_who_declined_the_page_scopes_is_their_own_account_only(linkedin):
    adapter, platform = linkedin
    platform.on("GET", "/v2/userinfo", answer(200, USERINFO))
    denied = {
        "status": 403,
        "serviceErrorCode": 100,
        "code": "ACCESS_DENIED",
        "message": "Not enough permissions",
    }
    platform.on("GET", "/rest/organizationAcls", answer(403, denied))
    assert [a.id for a in await adapter.list_accounts(TOKEN)] == [PERSON]


async def test_an_app_without_pages_asks_for_member_scopes_and_lists_the_member_only(linkedin):
    _, platform = linkedin
    async with platform.client() as client:
        members_only = LinkedInAdapter("id", "secret", http_client=client, api_version="202510", pages=False)
        assert "r_organization_admin" not in members_only.default_scopes
        platform.on("GET", "/v2/userinfo", answer(200, USERINFO))
        assert [a.id for a in await members_only.list_accounts(TOKEN)] == [PERSON]
    assert not platform.calls("GET", "/rest/organizationAcls")
