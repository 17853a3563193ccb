"""Error pages: each code in words of its own, or of its class, in the user's language."""

import pytest
from werkzeug.exceptions import abort


@pytest.fixture
def failing(app):
    """A route that answers with the status code it is given."""

    def fail(code: int) -> str:
        abort(code)

    app.add_url_rule("/test-fail/<int:code>", view_func=fail)
    return app


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (401, "Please log in to see this page."),
        (410, "What was at this address is no longer here."),
        (415, "This site does not accept that kind of file or data here."),
        (404, "There is no page at this address."),
        (500, "An unexpected error occurred."),
    ],
)
def test_each_code_has_its_own_words(client, failing, code, words):
    response = client.get(f"/test-fail/{code}")
    assert response.status_code == code
    assert words in response.get_data(as_text=True)


@pytest.mark.parametrize(("code", "words"), [(412, "could not be understood"), (502, "unexpected")])
def test_a_code_without_words_gets_those_of_its_class(client, failing, code, words):
    response = client.get(f"/test-fail/{code}")
    assert response.status_code == code
    assert words in response.get_data(as_text=True)


def test_error_pages_speak_russian(client, failing):
    response = client.get("/test-fail/410", headers={"Accept-Language": "ru"})
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "По этому адресу больше ничего нет." in page
    assert 'lang="ru"' in page


def test_an_error_page_keeps_what_its_error_says_in_headers(client):
    refused = client.delete("/accounts/login")
    assert refused.status_code == 405
    assert "GET" in refused.headers["Allow"] and "POST" in refused.headers["Allow"]
    assert "This address does not accept that kind of request." in refused.get_data(as_text=True)
