"""Dashboard settings, read once from env vars with documented defaults (see README)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.config import store_dir

__all__ = ["Settings"]


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    store: Path = Path("models_store")
    redis_url: str | None = None
    max_tokens: int = 2000
    max_text_chars: int = 100_000
    max_jobs: int = 1

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            host=os.environ.get("ATTRACTORSCOPE_HOST", "127.0.0.1"),
            port=int(os.environ.get("ATTRACTORSCOPE_PORT", "8050")),
            debug=_env_bool("ATTRACTORSCOPE_DEBUG"),
            store=store_dir(),
            redis_url=os.environ.get("ATTRACTORSCOPE_REDIS_URL") or None,
            max_jobs=int(os.environ.get("ATTRACTORSCOPE_MAX_JOBS", "1")),
        )
