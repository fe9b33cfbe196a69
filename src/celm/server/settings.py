"""Server settings; every one has a default and can be set from ``celm serve`` options."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass
class ServerSettings:
    db_url: str = "sqlite:///celm-annotations.db"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    session_ttl_s: int = 8 * 3600  # idle time after which a session expires
    session_max_s: int = 24 * 3600  # a session ends this long after login, however busy
    claim_ttl_s: int = 2 * 3600  # an item claimed and not rated for this long goes back to the queue
    secure_cookies: bool = False  # set behind HTTPS: cookies then travel only over TLS
    block_size: int = 2000  # the reviewer samples every this many finished items ...
    sample_size: int = 200  # ... this many of them
    acceptance_bar: float = 0.95  # below it the whole block is rejected and returned
    pass_mark: float = 0.9  # competence test
    test_tolerance: int = 1  # a test answer within this many ranks of the key counts as right
    test_size: int = 40  # questions drawn afresh from the bank for each attempt (the paper's 40)
    test_attempts: int = 3  # failed attempts at one test ...
    test_cooldown_s: int = 24 * 3600  # ... within this window, after which the annotator waits
    login_attempts: int = 5  # failed logins per user and address ...
    login_window_s: int = 300  # ... within this window before login is refused for a while
    redteam_models: tuple[str, ...] = ("echo",)
    judge: str = "builtin?mode=fast"
    migrate: bool = True  # run Alembic migrations at start-up
    # -- operating it safely (docs/annotation.md) --
    max_upload_bytes: int = 64 * 1024 * 1024  # an import or test file; a larger request is answered 413 unread
    max_field_chars: int = 100_000  # an imported instruction / response; a longer one is refused with its file:line
    forwarded_allow_ips: tuple[str, ...] = ()  # proxies whose X-Forwarded-For is believed; none: the peer is the client
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")  # Host headers answered; "*" for any
