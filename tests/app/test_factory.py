"""The application factory: proxies, error pages, headers."""
from __future__ import annotations

from flask import request

from config import TestConfig
from tracker import create_app


def _app(**settings):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    for key, value in settings.items():
        setattr(Config, key, value)
    app = create_app(Config)

    @app.get("/_whoami")
    def whoami():
        return f"{request.remote_addr} {request.scheme}"

    return app


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted():
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    direct = _app().test_client().get("/_whoami", headers=headers).get_data(as_text=True)
    assert direct == "127.0.0.1 http"
    proxied = _app(TRUSTED_PROXIES=1).test_client().get("/_whoami", headers=headers).get_data(as_text=True)
    assert proxied == "203.0.113.7 https"


def test_security_headers_on_every_response(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
        assert header in response.headers
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
