import base64

import pytest

from aligned_common.platforms import (
    InvalidSignature,
    InvalidWebhookSecret,
    MalformedWebhook,
    StaleTimestamp,
    WebhookSecret,
)
from aligned_common.platforms.standard_webhooks import sign, signed_headers, verify

pytestmark = pytest.mark.unit

# The reference vector published with the Standard Webhooks libraries.
REFERENCE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REFERENCE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
REFERENCE_TIMESTAMP = 1614265330
REFERENCE_BODY = b'{"test": 2432232314}'
REFERENCE_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = 1_700_000_000
BODY = b'{"type":"post.status_changed","data":{"post_id":"p1"}}'
OLD_SECRET = WebhookSecret.generate()
NEW_SECRET = WebhookSecret.generate()


def headers_for(secret=NEW_SECRET, body=BODY, timestamp=NOW):
    return signed_headers(secret, "msg_1", body, timestamp=timestamp)


def test_sign_matches_the_reference_vector():
    assert sign(REFERENCE_SECRET, REFERENCE_ID, REFERENCE_TIMESTAMP, REFERENCE_BODY) == REFERENCE_SIGNATURE


def test_reference_vector_verifies():
    headers = {
        "webhook-id": REFERENCE_ID,
        "webhook-timestamp": str(REFERENCE_TIMESTAMP),
        "webhook-signature": REFERENCE_SIGNATURE,
    }
    verified = verify(headers, REFERENCE_BODY, REFERENCE_SECRET, now=REFERENCE_TIMESTAMP + 10)
    assert (verified.webhook_id, verified.timestamp) == (REFERENCE_ID, REFERENCE_TIMESTAMP)


def test_sign_then_verify_round_trip():
    assert verify(headers_for(), BODY, NEW_SECRET, now=NOW).webhook_id == "msg_1"


def test_a_tampered_body_is_refused():
    with pytest.raises(InvalidSignature):
        verify(headers_for(), BODY.replace(b"p1", b"p2"), NEW_SECRET, now=NOW)


def test_a_tampered_id_is_refused():
    headers = headers_for() | {"webhook-id": "msg_2"}
    with pytest.raises(InvalidSignature):
        verify(headers, BODY, NEW_SECRET, now=NOW)


def test_the_wrong_secret_is_refused():
    with pytest.raises(InvalidSignature):
        verify(headers_for(OLD_SECRET), BODY, NEW_SECRET, now=NOW)


@pytest.mark.parametrize("skew_s", [-301, 301])
def test_a_timestamp_beyond_the_tolerance_either_way_is_stale(skew_s):
    with pytest.raises(StaleTimestamp):
        verify(headers_for(timestamp=NOW + skew_s), BODY, NEW_SECRET, now=NOW)


def test_a_timestamp_at_the_tolerance_is_accepted():
    verify(headers_for(timestamp=NOW - 300), BODY, NEW_SECRET, now=NOW)


def test_tolerance_is_configurable():
    with pytest.raises(StaleTimestamp):
        verify(headers_for(timestamp=NOW - 61), BODY, NEW_SECRET, now=NOW, tolerance_s=60)


def test_rotation_receiver_accepts_either_secret_while_both_are_configured():
    verify(headers_for(OLD_SECRET), BODY, [NEW_SECRET, OLD_SECRET], now=NOW)
    verify(headers_for(NEW_SECRET), BODY, [NEW_SECRET, OLD_SECRET], now=NOW)


def test_rotation_sender_signs_with_both_and_a_receiver_knowing_one_accepts():
    headers = signed_headers([OLD_SECRET, NEW_SECRET], "msg_1", BODY, timestamp=NOW)
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify(headers, BODY, NEW_SECRET, now=NOW)
    verify(headers, BODY, OLD_SECRET, now=NOW)


def test_unknown_versions_and_junk_among_signatures_are_skipped():
    valid = headers_for()["webhook-signature"]
    junk = "v1a,c2lnbmF0dXJl v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= nonsense"
    verify(headers_for() | {"webhook-signature": f"{junk} {valid}"}, BODY, NEW_SECRET, now=NOW)


def test_header_names_are_case_insensitive():
    headers = {name.title(): value for name, value in headers_for().items()}
    verify(headers, BODY, NEW_SECRET, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_malformed(missing):
    headers = headers_for()
    del headers[missing]
    with pytest.raises(MalformedWebhook):
        verify(headers, BODY, NEW_SECRET, now=NOW)


@pytest.mark.parametrize(
    ("header", "value"), [("webhook-timestamp", "yesterday"), ("webhook-signature", "not-a-signature")]
)
def test_an_unparseable_header_is_malformed(header, value):
    with pytest.raises(MalformedWebhook):
        verify(headers_for() | {header: value}, BODY, NEW_SECRET, now=NOW)


def test_a_secret_may_omit_its_prefix():
    unprefixed = NEW_SECRET.removeprefix("whsec_")
    verify(headers_for(), BODY, unprefixed, now=NOW)


@pytest.mark.parametrize("secret", ["whsec_!!!", "whsec_", ""])
def test_an_invalid_secret_is_a_configuration_error(secret):
    with pytest.raises(InvalidWebhookSecret):
        WebhookSecret.parse(secret)


def test_a_parsed_secret_keeps_its_key_out_of_logs():
    secret = WebhookSecret.parse(REFERENCE_SECRET)
    assert secret.key == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert "MfKQ" not in repr(secret)
