"""Dashboard settings, read once from env vars with documented defaults (see README)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.config import store_dir, user_store_dir
from core.job_registry import JobLimits, JobRegistry

__all__ = ["Settings"]


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    store: Path = Path("models_store")  # the bundled models: read-only whenever user_store is another folder
    user_store: Path | None = None      # where trained runs and their .jobs land; None: in `store` itself
    redis_url: str | None = None
    max_tokens: int = 2000
    max_text_chars: int = 100_000
    max_jobs: int = 1
    max_queued: int = 20             # jobs waiting at once, every client together
    max_jobs_per_client: int = 2     # queued or running jobs per browser session
    max_job_minutes: float = 60.0    # a job estimated to take longer is refused
    secret_key: str | None = None    # signs the session cookie; None: a random key kept in <store>/.jobs

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            host=os.environ.get("ATTRACTORSCOPE_HOST", "127.0.0.1"),
            port=int(os.environ.get("ATTRACTORSCOPE_PORT", "8050")),
            debug=_env_bool("ATTRACTORSCOPE_DEBUG"),
            store=store_dir(),
            user_store=user_store_dir(),
            redis_url=os.environ.get("ATTRACTORSCOPE_REDIS_URL") or None,
            max_jobs=int(os.environ.get("ATTRACTORSCOPE_MAX_JOBS", "1")),
            max_queued=int(os.environ.get("ATTRACTORSCOPE_MAX_QUEUED", "20")),
            max_jobs_per_client=int(os.environ.get("ATTRACTORSCOPE_MAX_JOBS_PER_CLIENT", "2")),
            max_job_minutes=float(os.environ.get("ATTRACTORSCOPE_MAX_JOB_MINUTES", "60")),
            secret_key=os.environ.get("ATTRACTORSCOPE_SECRET_KEY") or None,
        )

    @property
    def jobs_store(self) -> Path:
        """Where training jobs keep their records and publish their runs (the user store)."""
        return Path(self.user_store or self.store)

    def job_registry(self) -> JobRegistry:
        """The job registry of this store: runs land in the user store and may not take a bundled run's name."""
        return JobRegistry(self.jobs_store, limits=self.job_limits, read_only_stores=(Path(self.store),))

    @property
    def job_limits(self) -> JobLimits:
        return JobLimits(max_running=self.max_jobs, max_queued=self.max_queued,
                         max_per_owner=self.max_jobs_per_client, max_estimate_s=60.0 * self.max_job_minutes)
