"""Explore's link to lesson mode (/lesson) with the same model, text and view."""
from __future__ import annotations

from dash import Input, Output, clientside_callback, dcc

from dashboard import ids

__all__ = ["lesson_link"]


def lesson_link() -> dcc.Link:
    return dcc.Link("Lesson mode", id=ids.LESSON_LINK, href="/lesson", className="lesson-link",
                    title="This view full screen with large type, for a classroom (keyboard: space = next word)")


# the share URL (Explore's shareUrl) carries model, text and view: the lesson gets the same query
clientside_callback("""function (url) {
    try { return "/lesson" + new URL(url).search; } catch (e) { return "/lesson"; }
}""", Output(ids.LESSON_LINK, "href"), Input(ids.SHARE_URL, "children"))
