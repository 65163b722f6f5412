"""Another site reads the API from its visitors' browser (CORS), in a real Chromium."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.conftest import browser, live_server  # noqa: F401  (fixtures)
from tests.conftest import free_port

pytestmark = pytest.mark.browser


class _CampaignPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b"<!doctype html><title>A campaign's site</title><p>Upcoming hearings</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def other_site():
    """A page on another origin (another port), as a campaign's site would be."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _CampaignPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_campaign_site_reads_hearings_and_revalidates_from_the_browser(
    browser, live_server, other_site, public_records  # noqa: F811
):
    page = browser.new_page()
    page.goto(other_site)
    result = page.evaluate(
        """async (api) => {
            const first = await fetch(api + "/api/v1/hearings?case=bolotnaya", {cache: "no-store"});
            const body = await first.json();
            const etag = first.headers.get("ETag");
            // If-None-Match is not a CORS-safelisted header: this needs the preflight to pass
            const again = await fetch(api + "/api/v1/hearings?case=bolotnaya",
                                      {cache: "no-store", headers: {"If-None-Match": etag}});
            const paged = await fetch(api + "/api/v1/hearings?limit=1", {cache: "no-store"});
            return {status: first.status, etag, names: body.items.map(h => h.defendants.map(d => d.name_original)),
                    again: again.status, link: paged.headers.get("Link")};
        }""",
        live_server,
    )
    assert result["status"] == 200
    assert result["etag"].startswith('"')
    assert ["Анна Петрова"] in result["names"]
    assert result["again"] == 304
    assert result["link"] and 'rel="next"' in result["link"]
    page.close()
