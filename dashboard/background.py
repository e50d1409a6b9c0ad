"""Where background jobs run: a local diskcache-backed process pool by default, Celery + Redis when
ATTRACTORSCOPE_REDIS_URL is set (see README, DEPLOY)."""
from __future__ import annotations

from dash import CeleryManager, DiskcacheManager

from dashboard.settings import Settings

__all__ = ["make_background_manager", "make_celery"]


def make_celery(redis_url: str):
    from celery import Celery

    celery_app = Celery("attractorscope", broker=redis_url, backend=redis_url)
    # one job at a time per worker process, and no prefetching of queued jobs behind a long one
    celery_app.conf.update(worker_prefetch_multiplier=1, task_acks_late=True, broker_connection_retry_on_startup=True)
    return celery_app


def make_background_manager(settings: Settings):
    """(manager, celery_app or None)."""
    if settings.redis_url:
        celery_app = make_celery(settings.redis_url)
        return CeleryManager(celery_app), celery_app
    import diskcache

    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    return DiskcacheManager(diskcache.Cache(str(settings.cache_dir / "background"))), None
