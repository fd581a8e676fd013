import pytest

from aligned_publishing.domain.links import (
    CODE_ALPHABET,
    CODE_LENGTH,
    ShortLink,
    UtmParameters,
    new_code,
    shorten_text,
    tag_text,
    tag_url,
    utm_for,
)

pytestmark = pytest.mark.unit
UTM = UtmParameters(source="x", medium="social", campaign="spring")


def test_utm_defaults_source_to_the_platform_and_campaign_to_the_brand_default():
    assert utm_for("linkedin", campaign=None, default_campaign="always") == UtmParameters(
        "linkedin", "social", "always"
    )
    assert utm_for("x", campaign="launch", default_campaign="always").campaign == "launch"


def test_a_plain_url_gets_all_three_parameters():
    assert (
        tag_url("https://shop.example/p", UTM)
        == "https://shop.example/p?utm_source=x&utm_medium=social&utm_campaign=spring"
    )


def test_existing_parameters_are_kept_in_order_and_utm_is_never_duplicated():
    url = "https://shop.example/p?id=7&UTM_SOURCE=newsletter&b=&utm_campaign=own"
    assert tag_url(url, UTM) == url + "&utm_medium=social"


def test_a_url_already_carrying_every_parameter_is_unchanged():
    url = "https://shop.example/?utm_source=a&utm_medium=b&utm_campaign=c"
    assert tag_url(url, UTM) == url


def test_the_fragment_stays_at_the_end():
    assert (
        tag_url("https://shop.example/p?id=1#reviews", UTM)
        == "https://shop.example/p?id=1&utm_source=x&utm_medium=social&utm_campaign=spring#reviews"
    )


def test_no_campaign_means_no_utm_campaign():
    utm = UtmParameters("x", "social", None)
    assert tag_url("https://a.example", utm) == "https://a.example?utm_source=x&utm_medium=social"


@pytest.mark.parametrize(
    "link", ["mailto:hi@a.example", "ftp://a.example/f", "tel:+441234", "https:nohost", "#tag"]
)
def test_non_http_links_are_untouched(link):
    assert tag_url(link, UTM) == link


def test_text_urls_are_tagged_and_trailing_punctuation_and_other_words_are_kept():
    text = "New drop (https://a.example/p). Mail hi@a.example or see https://b.example/?q=1!"
    assert tag_text(text, UtmParameters("x", "social", None)) == (
        "New drop (https://a.example/p?utm_source=x&utm_medium=social). Mail hi@a.example or see "
        "https://b.example/?q=1&utm_source=x&utm_medium=social!"
    )


def test_codes_are_short_and_drawn_from_the_unambiguous_alphabet():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200  # random, not a counter or a constant
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_ALPHABET)
    assert not set("0o1l") & set(CODE_ALPHABET)


def test_code_uses_the_given_chooser():
    assert new_code(lambda alphabet: alphabet[0]) == CODE_ALPHABET[0] * CODE_LENGTH


def test_shortening_replaces_each_url_and_reuses_a_code_for_a_repeated_url():
    codes = iter(["aaaaaaaa", "bbbbbbbb"])
    text, links = shorten_text(
        "A https://a.example/p?utm_source=x, B https://b.example. Again https://a.example/p?utm_source=x",
        "https://go.aligned.example/",
        lambda _url: next(codes),
    )
    assert text == (
        "A https://go.aligned.example/l/aaaaaaaa, B https://go.aligned.example/l/bbbbbbbb. "
        "Again https://go.aligned.example/l/aaaaaaaa"
    )
    assert links == [
        ShortLink("aaaaaaaa", "https://a.example/p?utm_source=x"),
        ShortLink("bbbbbbbb", "https://b.example"),
    ]


def test_text_without_urls_is_unchanged_and_has_no_links():
    assert shorten_text("no links here, mail hi@a.example", "https://go.example") == (
        "no links here, mail hi@a.example",
        [],
    )
